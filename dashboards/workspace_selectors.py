"""Reads of the secretary's workspace home: each brand the user manages, with what needs doing this week
(open rectifications, milestones due or overdue) and how people rate it (score, rank, grades, trend, groups).

Every read is batched over all the user's brands, one query per kind, so the page costs the same number
of queries for one brand as for fifty. Figures come from the scores selectors (score cells), never from
raw ratings.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from brands.models import Brand, Milestone
from brands.selectors import brand_list_for
from evaluations import policy
from evaluations.models import Evaluation, Grade, Rectification
from evaluations.selectors import brands_with_rectification_counts, rectification_list
from organizations import rules
from organizations.rules import Action
from scores import periods
from scores import selectors as score_selectors
from scores.models import ScoreCell

TREND_MONTHS = 12
WEEK_DAYS = 7
# Open rectifications listed on a brand's card; the rest are one link away.
RECTIFICATIONS_SHOWN = 5
_GRADES = sorted(Grade.choices, reverse=True)  # grade 5 first


@dataclass(frozen=True)
class TrendMonth:
    period: str  # "YYYY-MM"
    n: int
    score: float | None  # None in a month without ratings


@dataclass(frozen=True)
class GroupFigures:
    group: str
    label: str
    n: int
    score: float | None  # None below SCORE_MIN_RATINGS, as in the rankings


@dataclass(frozen=True)
class BrandScores:
    """A public brand's figures: all time and all raters unless said otherwise."""

    row: score_selectors.RankingRow | None  # None: no counted rating yet
    ranked_among: int  # brands with counted ratings in the all-time ranking
    tentative: bool  # fewer ratings than the prior weight m: the score leans towards the mean of all brands
    prior_weight: int
    min_ratings: int
    bar: list[dict]
    grades: list[tuple[int, str, int]]  # (grade, label, count), grade 5 first
    latest: score_selectors.SeriesPoint | None  # the latest month with ratings in the trend window: its 95% interval
    trend: list[TrendMonth]  # the last TREND_MONTHS months, oldest first, months without ratings included
    groups: list[GroupFigures]  # the three rater groups, in their fixed order

    @property
    def ranked(self) -> bool:
        return self.row is not None and self.row.rank is not None

    @property
    def has_trend(self) -> bool:
        return any(month.n for month in self.trend)


def trend_months(*, today: datetime.date) -> list[str]:
    """The last TREND_MONTHS months up to today's, oldest first ("YYYY-MM")."""
    months = [f"{today.year}-{today.month:02d}"]
    while len(months) < TREND_MONTHS:
        months.append(periods.period_previous(months[-1]))
    return months[::-1]


def workspace_brands(*, user) -> list[Brand]:
    """The brands the user manages, by name, each with ``open_rectification_list`` (soonest due first, at
    most RECTIFICATIONS_SHOWN), ``milestones_due`` (open milestones overdue or due within a week),
    ``scores`` (BrandScores, None for a brand that is not public) and the annotations of
    ``brand_list_for`` (progress) and ``brands_with_rectification_counts``."""
    brands = list(brands_with_rectification_counts(brand_list_for(user=user, action=Action.MANAGE)))
    if not brands:
        return brands
    ids = [brand.pk for brand in brands]
    rectifications = _open_rectifications(user=user, brand_ids=ids)
    milestones = _milestones_due(user=user, brand_ids=ids)
    figures = _brand_scores([brand.pk for brand in brands if brand.is_public])
    for brand in brands:
        brand.open_rectification_list = rectifications.get(brand.pk, [])[:RECTIFICATIONS_SHOWN]
        brand.milestones_due = milestones.get(brand.pk, [])
        brand.scores = figures.get(brand.pk)
    return brands


def _open_rectifications(*, user, brand_ids: list[int]) -> dict[int, list[Rectification]]:
    """Open rectifications (a response owed, or the rater's verdict awaited) by brand, soonest due first."""
    queryset = rectification_list(user=user, action=Action.MANAGE).filter(
        policy.rectification_open_q(), brand_id__in=brand_ids
    )
    by_brand: dict[int, list[Rectification]] = {}
    for rectification in queryset:
        by_brand.setdefault(rectification.brand_id, []).append(rectification)
    return by_brand


def _milestones_due(*, user, brand_ids: list[int]) -> dict[int, list[Milestone]]:
    """Milestones not done and due before a week from today (the overdue ones included), by brand."""
    week_end = timezone.localdate() + datetime.timedelta(days=WEEK_DAYS)
    queryset = Milestone.objects.filter(
        rules.scope(user, Action.MANAGE),
        plan__brand_id__in=brand_ids,
        completed_on__isnull=True,
        due_date__lt=week_end,
    ).select_related("plan")
    by_brand: dict[int, list[Milestone]] = {}
    for milestone in queryset.order_by("due_date", "id"):
        by_brand.setdefault(milestone.plan.brand_id, []).append(milestone)
    return by_brand


def _brand_scores(brand_ids: list[int]) -> dict[int, BrandScores]:
    """Figures of public brands. Which brands have cells is read first (uncached), so brands without
    ratings cost no score query at all."""
    if not brand_ids:
        return {}
    months = trend_months(today=timezone.localdate())
    codes = {periods.period_code(month): month for month in months}
    cells = ScoreCell.objects.filter(brand_id__in=brand_ids, period__in=[periods.ALL, *codes]).values_list(
        "brand_id", "period"
    )
    rated, with_months = set(), set()
    for brand_id, code in cells:
        (rated if code == periods.ALL else with_months).add(brand_id)

    rows = score_selectors.brand_score_summaries(brand_ids=sorted(rated)) if rated else {}
    groups = score_selectors.brand_group_scores(brand_ids=sorted(rated)) if rated else {}
    series = score_selectors.brand_series_many(brand_ids=sorted(with_months), months=months) if with_months else {}
    ranking = score_selectors.Ranking(period="all")
    prior = ranking.prior if rows else None
    ranked_among = ranking.count() if rows else 0

    result = {}
    for brand_id in brand_ids:
        row = rows.get(brand_id)
        points = {point.period: point for point in series.get(brand_id, [])}
        by_group = groups.get(brand_id, {})
        result[brand_id] = BrandScores(
            row=row,
            ranked_among=ranked_among,
            tentative=bool(row and row.rank is not None and score_selectors.score_is_tentative(row, prior)),
            prior_weight=round(prior.m) if prior else 0,
            min_ratings=settings.SCORE_MIN_RATINGS,
            bar=score_selectors.grade_bar(row) if row else [],
            grades=[(grade, label, getattr(row, f"grade_{grade}") if row else 0) for grade, label in _GRADES],
            latest=series[brand_id][-1] if series.get(brand_id) else None,
            trend=[
                TrendMonth(period=month, n=points[month].n, score=points[month].score)
                if month in points
                else TrendMonth(period=month, n=0, score=None)
                for month in months
            ],
            groups=[
                GroupFigures(
                    group=group,
                    label=label,
                    n=by_group[group].n if group in by_group else 0,
                    score=by_group[group].score if group in by_group else None,
                )
                for group, label in Evaluation.RaterGroup.choices
            ],
        )
    return result
