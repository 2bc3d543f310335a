"""Shared fixtures of the evaluation tests: brands, client signals, and the hand-computed scoring example."""

import datetime

import pytest

from evaluations import integrity
from evaluations.models import BrandScore, Evaluation
from evaluations.services import evaluation_change_state
from tests.factories import make_brand, make_evaluation

NOV = datetime.date(2026, 11, 10)
OCT = datetime.date(2026, 10, 3)

# Columns that must agree between the incremental fold and the full recompute (everything but ids and times).
COMPARED = [f.name for f in BrandScore._meta.fields if f.name not in ("id", "computed_at")]


def _column(name: str) -> str:
    return f"{name}_id" if name in ("brand", "organization", "parent_organization") else name


def table() -> list[tuple]:
    """The whole BrandScore table as sorted tuples of the compared columns."""
    columns = [_column(n) for n in COMPARED]
    return sorted(BrandScore.objects.values_list(*columns))


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


def cell(code: str, period: str, group: str = "") -> BrandScore:
    return BrandScore.objects.get(brand__code=code, period=period, rater_group=group)


@pytest.fixture
def brand(tree):
    return make_brand(tree["community"], code="hyl01", name="红色家园")


@pytest.fixture
def other_brand(tree):
    return make_brand(tree["enterprise"], code="hr01", name="海润先锋")


@pytest.fixture
def signals():
    def make(ip="10.0.0.1", device="dev-1", **kw):
        return integrity.ClientSignals(ip=ip, device_key=device, user_agent="pytest", **kw)

    return make
