"""Demo ratings: realistic spread, rectifications in every state, flagged ones; a second run adds nothing."""

import pytest

from evaluations import demo
from evaluations.models import Evaluation, EvaluationStateChange, Rectification
from tests.factories import make_brand

pytestmark = pytest.mark.django_db


def test_demo_ratings_are_realistic_and_idempotent(tree, secretary):
    brands = [make_brand(tree["community"], code=f"demo{i}") for i in range(8)]
    make_brand(tree["community"], code="draftx", status="draft")
    first = demo.seed()
    assert first["ratings"] == Evaluation.objects.count() > 100
    assert first["rectifications"] == Rectification.objects.count()
    assert first["flagged"] == Evaluation.objects.filter(state="flagged").count() > 0
    assert demo.seed() == {"ratings": 0, "rectifications": 0, "flagged": 0}
    assert Evaluation.objects.filter(brand__code="draftx").count() == 0
    sizes = {b.evaluations.count() for b in brands}
    assert len(sizes) > 2  # different sample sizes
    statuses = set(Rectification.objects.values_list("status", flat=True))
    assert {"open", "responded", "confirmed", "reopened", "escalated"} <= statuses
    assert Rectification.objects.filter(is_overdue=True).exists()
    for rectification in Rectification.objects.filter(status="upheld"):
        assert rectification.evaluation.state == "excluded"
        assert EvaluationStateChange.objects.filter(evaluation=rectification.evaluation).count() == 1
    counted = Evaluation.objects.filter(state="counted")
    good_share = counted.filter(overall__gte=4).count() / counted.count()
    assert 0.6 < good_share < 0.95
