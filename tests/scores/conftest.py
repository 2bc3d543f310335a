"""Fixtures of the scores tests: the hand-computed example, and helpers to read cells and rankings."""

import datetime

import pytest

from evaluations.models import Evaluation
from evaluations.services import evaluation_change_state
from scores.models import COUNT_COLUMNS, ScoreCell
from scores.periods import period_code
from scores.selectors import RankingRow, ranking
from tests.factories import make_brand, make_evaluation

NOV = datetime.date(2026, 11, 10)
OCT = datetime.date(2026, 10, 3)


def table() -> list[tuple]:
    """The whole cells table as sorted tuples of every column."""
    return sorted(ScoreCell.objects.values_list("brand_id", "period", *COUNT_COLUMNS))


def rate(brand, grades, day=NOV, **fields):
    return [make_evaluation(brand, grade, rated_on=day, **fields) for grade in grades]


@pytest.fixture
def example(tree):
    """Six brands rated in November 2026 (the hand-computed example) and two in October."""
    brands = {
        "A": make_brand(tree["grid"], "A"),
        "B": make_brand(tree["community"], "B"),
        "C": make_brand(tree["enterprise"], "C"),
        "D": make_brand(tree["enterprise"], "D"),
        "E": make_brand(tree["grid"], "E"),
        "F": make_brand(tree["grid"], "F"),
        "G": make_brand(tree["district"], "G"),
        "H": make_brand(tree["district"], "H"),
    }
    rate(brands["A"], [5, 5, 5, 5, 5, 5, 4, 4, 3, 1], management=4)
    rate(brands["B"], [5, 5, 5, 5, 5], rater_group=Evaluation.RaterGroup.MEMBER, service=5, quality=3)
    rate(brands["C"], [4, 4, 4, 4, 4])
    rate(brands["D"], [5, 5, 5, 4, 1])
    rate(brands["E"], [4, 4, 4, 4, 4])
    rate(brands["F"], [2, 3])
    flagged = make_evaluation(brands["A"], 1, rated_on=NOV)
    evaluation_change_state(evaluation=flagged, to_state=Evaluation.State.FLAGGED, reason="same device, 20 in a minute")
    # October: equal score (both exactly the period mean 3) and equal Wilson bound (0): more ratings first.
    rate(brands["G"], [3, 3, 3, 3, 3], day=OCT)
    rate(brands["H"], [3, 3, 3, 3, 3, 3], day=OCT)
    return brands


def cell(code: str, period: str) -> ScoreCell:
    return ScoreCell.objects.get(brand__code=code, period=period_code(period))


def row(code: str, period: str, **scope) -> RankingRow:
    """The brand's row in the period's ranking (overall, or in the given scope)."""
    return next(r for r in ranking(period=period, **scope) if r.code == code)


def ranks(period: str, **scope) -> dict[str, int | None]:
    return {r.code: r.rank for r in ranking(period=period, **scope)}


@pytest.fixture(autouse=True)
def prior_weight_20(settings):
    """The hand-computed examples use a fixed m = 20; tests of the estimator unset it."""
    settings.SCORE_PRIOR_WEIGHT = 20
