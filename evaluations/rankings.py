"""Reads over scores: ranking rows for a period and a scope, a brand's score summary, the CSV fields.

Rankings read `BrandScore` only (precomputed by evaluations.scoring), never the ratings table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from brands.models import Brand
from brands.selectors import brand_public_version
from config.errors import ApplicationError
from evaluations import scoring
from evaluations.models import BrandScore

PERIOD_PATTERN = re.compile(r"^(?:all|(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?)$")


def period_kind(period: str) -> str:
    """The kind of a period key, or ApplicationError on the `period` field if it is malformed."""
    match = PERIOD_PATTERN.match(period or "")
    if not match:
        raise ApplicationError(str(_("Use YYYY-MM, YYYY-Qn, YYYY or all.")), field="period")
    if period == "all":
        return BrandScore.Kind.ALL
    if match.group(2):
        return BrandScore.Kind.MONTH
    if match.group(3):
        return BrandScore.Kind.QUARTER
    return BrandScore.Kind.YEAR


def period_previous(period: str) -> str | None:
    """The period of the same kind just before `period` (None for all time)."""
    kind = period_kind(period)
    if kind == BrandScore.Kind.ALL:
        return None
    year = int(period[:4])
    if kind == BrandScore.Kind.YEAR:
        return str(year - 1)
    if kind == BrandScore.Kind.QUARTER:
        quarter = int(period[-1])
        return f"{year - 1}-Q4" if quarter == 1 else f"{year}-Q{quarter - 1}"
    month = int(period[5:7])
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def ranking_periods() -> list[str]:
    """Periods that have scores, newest first within each kind: all time, years, quarters, months."""
    periods = set(BrandScore.objects.filter(rater_group="").values_list("period", flat=True).distinct())
    order = {BrandScore.Kind.ALL: 0, BrandScore.Kind.YEAR: 1, BrandScore.Kind.QUARTER: 2, BrandScore.Kind.MONTH: 3}
    return sorted(sorted(periods, reverse=True), key=lambda p: order[period_kind(p)])


def ranking_rank_field(*, domain: str = "", parent: int | None = None) -> str:
    """Which stored rank the scope shows: within the parent, within the domain, or overall."""
    if parent:
        return "rank_parent"
    if domain:
        return "rank_domain"
    return "rank"


RANKING_ROW_FIELDS = [
    "brand",
    "organization",
    "domain",
    "period",
    "rater_group",
    "n",
    *(f"grade_{grade}" for grade in range(1, 6)),
    "overall_mean",
    "score",
    "wilson",
    "net_score",
    "bad_rate",
    "rank",
    "rank_domain",
    "rank_parent",
]


def ranking_rows(
    *, period: str, domain: str = "", parent: int | None = None, rater_group: str = ""
) -> QuerySet[BrandScore]:
    """Public brands' scores in one period and scope, ranked first, then "not enough ratings" by n.

    Each row has `position` (its rank in the scope) and `previous_position` (same scope, the previous
    period of the same kind; None when the brand was unranked or absent then). `parent` is the id of
    the parent organization of the brands' organizations: the partition of `rank_parent`.
    """
    period_kind(period)
    rank_field = ranking_rank_field(domain=domain, parent=parent)
    rows = BrandScore.objects.filter(
        period=period, rater_group=rater_group, brand__status__in=Brand.PUBLIC_STATUSES
    ).select_related("brand", "organization")
    # What the page, the API and the CSV show: not the brands' long texts nor the other counts.
    rows = rows.only(*RANKING_ROW_FIELDS, "brand__code", "brand__name", "brand__status", "organization__name")
    if domain:
        rows = rows.filter(domain=domain)
    if parent:
        rows = rows.filter(parent_organization_id=parent)
    previous = period_previous(period)
    if previous:
        earlier = BrandScore.objects.filter(brand=OuterRef("brand"), period=previous, rater_group=rater_group)
        rows = rows.annotate(previous_position=Subquery(earlier.values(rank_field)[:1]))
    rows = rows.annotate(position=F(rank_field)).order_by(F(rank_field).asc(nulls_last=True), "-n", "brand__code")
    rows.ranking_scope = f"{period}|{domain}|{parent or ''}|{rater_group}"  # the key of its cached count
    return rows


def rankings_version() -> str:
    """A token that changes when a scoring job commits or a brand enters or leaves the public statuses:
    everything a ranking read shows (but organization names) changes only then."""
    return f"{scoring.scores_version()}:{brand_public_version()}"


class RankingPaginator(Paginator):
    """Pages of ranking rows whose total is counted once per scores version and brand-status version.

    Counting a period's rows (a join over every brand) costs more than reading a page of them; the
    total changes only when a scoring job commits or a brand enters or leaves the public statuses.
    """

    @cached_property
    def count(self) -> int:
        scope = getattr(self.object_list, "ranking_scope", None)  # set by `ranking_rows`
        if scope is None:
            return super().count
        key = f"rankings:count:{scope}:{rankings_version()}"
        return cache.get_or_set(key, self.object_list.count, 3600)


def ranking_row_change(row: BrandScore) -> int | None:
    """Places gained since the previous period (positive = moved up), None if either rank is missing."""
    previous = getattr(row, "previous_position", None)
    if previous is None or row.position is None:
        return None
    return previous - row.position


def brand_score_summary(*, brand: Brand, period: str = "all") -> BrandScore | None:
    """A brand's all-raters score in one period, or None if it has no counted rating there."""
    return BrandScore.objects.filter(brand=brand, period=period, rater_group="").first()


def score_is_tentative(score: BrandScore) -> bool:
    """Fewer ratings than the prior weight: the period mean weighs more than the brand's own ratings."""
    return score.n < settings.SCORE_PRIOR_WEIGHT


@dataclass(frozen=True)
class Field:
    name: str
    meaning: str


# The CSV columns, in order, with their meaning: the field dictionary shown beside the download.
CSV_FIELDS = [
    Field("rank", _("Rank in the chosen scope (overall, within the domain or within the parent); empty if unranked")),
    Field("rank_change", _("Places gained since the previous period of the same kind (negative: lost)")),
    Field("code", _("Brand code, as on the QR poster")),
    Field("brand", _("Brand name")),
    Field("organization", _("Organization that owns the brand")),
    Field("domain", _("Domain of that organization")),
    Field("n", _("Number of counted ratings (flagged and excluded ratings are not counted)")),
    Field("mean", _("Mean overall grade, 1 to 5")),
    Field("score", _("Ranking score: Bayesian average (n·mean + m·C)/(n + m), C = mean of the period")),
    Field("wilson", _("Wilson lower bound (95%) of the share of grades 4 and 5")),
    Field("net_score", _("Net score: % of grade 5 minus % of grades 1 and 2")),
    Field("bad_rate", _("Share of bad reviews (grades 1 and 2)")),
    Field("grade_5", _("Ratings of grade 5, very satisfied")),
    Field("grade_4", _("Ratings of grade 4, satisfied")),
    Field("grade_3", _("Ratings of grade 3, basically satisfied")),
    Field("grade_2", _("Ratings of grade 2, dissatisfied")),
    Field("grade_1", _("Ratings of grade 1, very dissatisfied")),
    Field("status", _("'ranked', or 'not enough ratings' below the minimum number of ratings")),
]


def ranking_csv_values(row: BrandScore) -> list:
    ranked = row.position is not None
    change = ranking_row_change(row)
    return [
        row.position if ranked else "",
        "" if change is None else change,
        row.brand.code,
        row.brand.name,
        row.organization.name,
        row.domain,
        row.n,
        round(row.overall_mean, 4),
        round(row.score, 4) if ranked else "",
        round(row.wilson, 4),
        round(row.net_score, 2),
        round(row.bad_rate, 4),
        row.grade_5,
        row.grade_4,
        row.grade_3,
        row.grade_2,
        row.grade_1,
        "ranked" if ranked else "not enough ratings",
    ]


def grade_bar(score: BrandScore) -> list[dict]:
    """Segments of the grade distribution bar (grade 5 first), as offsets and widths in percent."""
    segments, offset = [], 0.0
    for grade in range(5, 0, -1):
        count = getattr(score, f"grade_{grade}")
        width = 100.0 * count / score.n if score.n else 0.0
        if count:
            segments.append({"grade": grade, "count": count, "x": round(offset, 3), "width": round(width, 3)})
        offset += width
    return segments
