"""Score cells: additive counts of counted ratings per (brand, period), one set of columns per rater group.

A cell holds only what adds up: counts per grade, the bad reviews, counts and sums per dimension.
Nothing in it depends on other brands or on the organization tree; the Bayesian score, the Wilson
bound, ranks and rank changes are derived when read (`scores.selectors`), joined with each brand's
current organization and status. "All raters" is the sum of the three groups' columns.

Rater groups are columns rather than rows: a fold then writes one row per touched (brand, period),
a third of what rows per group would cost.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from brands.models import Brand
from evaluations.models import Evaluation

GROUPS = tuple(Evaluation.RaterGroup.values)  # masses, member, sub_org
GRADES = (1, 2, 3, 4, 5)
DIMENSIONS = ("management", "service", "quality")
# What each group's columns hold, in order: `<group>_<measure>`.
MEASURES = (
    "n",
    *(f"grade_{grade}" for grade in GRADES),
    "bad_n",
    "verified_n",  # made with a one-time rating code (一次一评)
    *(f"{dimension}_{part}" for dimension in DIMENSIONS for part in ("n", "sum")),
)
COUNT_COLUMNS = tuple(f"{group}_{measure}" for group in GROUPS for measure in MEASURES)


class ScoreCell(models.Model):
    """One brand's counted ratings in one period. `period` is a code (see `scores.periods`):
    202611 a month, 20264 a quarter, 2026 a year, 0 all time.

    Derived data: the jobs in `scores.services` build it from the ratings table and nothing else writes
    here. No foreign-key constraint: its per-row check would slow the bulk writes, and ratings (so the
    brands they rate) are never deleted.
    """

    pk = models.CompositePrimaryKey("brand", "period")
    brand = models.ForeignKey(
        Brand,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="score_cells",
        verbose_name=_("brand"),
    )
    period = models.IntegerField(_("period"))

    class Meta:
        verbose_name = _("score cell")
        verbose_name_plural = _("score cells")
        # Rankings read one period of every brand; the primary key serves one brand's periods.
        indexes = [models.Index(fields=["period"], name="scorecell_period")]

    def __str__(self) -> str:
        return f"{self.brand_id} · {self.period}"


# Counts are never negative by construction; no CHECK constraint per column slows the bulk writes.
for _column in COUNT_COLUMNS:
    ScoreCell.add_to_class(_column, models.IntegerField(default=0))


class ScoreWatermark(models.Model):
    """The single bookkeeping row of the incremental fold: the last rating and state change folded in.

    `recent` lists the last folds as [unix time, newest rating id then]: the newest rating id seen by a
    fold at least ``SCORE_OVERLAP_SECONDS`` ago bounds the ratings a fold re-reads (a rating whose id is
    lower but that committed late was created before that fold).
    """

    last_evaluation_id = models.BigIntegerField(default=0)
    last_state_change_id = models.BigIntegerField(default=0)
    recent = models.JSONField(default=list)
    updated_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"evaluation {self.last_evaluation_id} · state change {self.last_state_change_id}"
