"""Demo ratings: realistic spread, rectifications in every state, flagged ones; a second run adds nothing;
the whole demo has months of history with trends and two adoptions."""

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from brands.models import Case, CaseAdoption
from evaluations import demo
from evaluations.models import Evaluation, EvaluationStateChange, Rectification
from scores.selectors import adoption_effect
from scores.services import scores_recompute_full
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


def _mean(ratings) -> float:
    return sum(ratings) / len(ratings)


def test_seed_demo_gives_months_of_history_with_trends():
    """The whole demo: ten months of ratings, strong and weak brands, one declining, one silent, two adoptions."""
    call_command("seed_demo", stdout=io.StringIO())
    today = timezone.localdate()
    rows = list(Evaluation.objects.values_list("brand__name", "rated_on", "created_at", "overall", "state"))
    assert len({(day.year, day.month) for _b, day, *_rest in rows}) >= 8
    assert len({(timezone.localtime(at).year, timezone.localtime(at).month) for _b, _d, at, *_rest in rows}) >= 8
    assert all(timezone.localtime(at).date() == day for _b, day, at, *_rest in rows)  # rated that local day
    assert min(day for _b, day, *_rest in rows) <= today - datetime.timedelta(days=240)
    # Salted hashes, never raw values; every receipt its own.
    hashes = Evaluation.objects.values_list("device_hash", "ip_hash")
    assert all(re.fullmatch("[0-9a-f]{64}", h) for pair in hashes for h in pair)
    assert Evaluation.objects.values("receipt").distinct().count() == len(rows)
    assert Evaluation.objects.filter(state="counted").count() / len(rows) > 0.95
    counted: dict[str, list[tuple[datetime.date, int]]] = {}
    for name, day, _at, overall, state in rows:
        if state == "counted":
            counted.setdefault(name, []).append((day, overall))
    volumes = sorted(len(ratings) for ratings in counted.values())
    assert volumes[-1] >= 10 * volumes[0]  # a few strong brands, a few small ones
    means = {name: _mean([g for _d, g in ratings]) for name, ratings in counted.items() if len(ratings) >= 100}
    assert max(means.values()) - min(means.values()) >= 1  # strong and weak
    recent, earlier = today - datetime.timedelta(days=60), today - datetime.timedelta(days=240)
    declining = []
    for name, ratings in counted.items():
        last = [g for d, g in ratings if d > recent]
        before = [g for d, g in ratings if earlier < d <= recent]
        if len(last) >= 30 and len(before) >= 30 and _mean(last) <= _mean(before) - 0.5:
            declining.append(name)
    assert "热线先锋" in declining  # by design; another brand may dip by chance
    silent = [
        name
        for name, ratings in counted.items()
        if len(ratings) >= 100 and max(d for d, _g in ratings) <= today - datetime.timedelta(days=21)
    ]
    assert silent == ["红色驿站"]
    # Two adoptions, each with enough ratings before and after to show the effect.
    scores_recompute_full()
    adoptions = CaseAdoption.objects.select_related("brand", "case__brand").order_by("adopted_on")
    assert [(a.brand.name, a.case.brand.name) for a in adoptions] == [
        ("服务零距离", "第一时间交给群众"),
        ("村改居连心桥", "红色物业"),
    ]
    for adoption in adoptions:
        assert adoption.organization_id == adoption.brand.organization_id
        assert adoption.case.published_at.date() < adoption.adopted_on < today
        effect = adoption_effect(brand=adoption.brand, since=adoption.adopted_on)
        assert effect["before"]["n"] >= 30 and effect["after"]["n"] >= 30
        assert effect["low"] > 0  # better after, beyond chance
    # The case stories are each their own, not one template.
    cases = list(Case.objects.values_list("title", "summary", "body"))
    for part in range(3):
        assert len({case[part] for case in cases}) == len(cases)
    assert len({case[2][:12] for case in cases}) == len(cases)
