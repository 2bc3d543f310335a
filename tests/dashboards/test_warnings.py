"""Early warnings: each rule fires exactly when it should and resolves when its condition ends; 帮扶 cases."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from brands.models import Brand, Milestone, Plan
from config.errors import ApplicationError
from dashboards import services
from dashboards.models import EarlyWarning, SupportCase, SupportEvent
from evaluations.models import Rectification
from tests.dashboards.conftest import add_ratings, rebuild
from tests.factories import make_brand

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 1)


def open_rules(brand) -> list[str]:
    return sorted(
        EarlyWarning.objects.filter(brand=brand, state__in=EarlyWarning.OPEN_STATES).values_list("rule", flat=True)
    )


def month_day(code: int, day: int = 10) -> date:
    return date(code // 100, code % 100, day)


@pytest.fixture
def quiet(tree):
    """A public brand rated every few days, so that no rule fires for it."""
    brand = make_brand(tree["grid"], "QUIET", name="安静")
    for back in range(0, 120, 7):
        add_ratings(brand, [5, 4], TODAY - timedelta(days=back))
    Brand.objects.filter(pk=brand.pk).update(created_at=timezone.now() - timedelta(days=200))
    return brand


def evaluate():
    rebuild(today=TODAY)
    return services.warnings_evaluate(today=TODAY)


def test_overdue_rectifications_fire_at_the_threshold_and_resolve(quiet, settings):
    settings.WARNING_OVERDUE_RECTIFICATIONS = 2
    from evaluations.models import Evaluation

    bad = list(Evaluation.objects.filter(brand=quiet)[:2])
    rectifications = [
        Rectification.objects.create(
            evaluation=e, brand=quiet, organization_id=quiet.organization_id, due_on=TODAY - timedelta(days=3)
        )
        for e in bad
    ]
    Rectification.objects.filter(pk=rectifications[0].pk).update(is_overdue=True)
    evaluate()
    assert open_rules(quiet) == []  # one overdue: below the threshold
    Rectification.objects.filter(pk=rectifications[1].pk).update(is_overdue=True)
    evaluate()
    assert open_rules(quiet) == ["overdue"]
    warning = EarlyWarning.objects.get(brand=quiet)
    assert warning.figures == {"overdue": 2, "limit": 2}
    Rectification.objects.filter(pk=rectifications[1].pk).update(status=Rectification.Status.RESPONDED)
    assert evaluate()["resolved"] == 1
    warning.refresh_from_db()
    assert (warning.state, warning.resolved_at is not None) == ("resolved", True)


def test_overdue_milestones_fire_and_resolve(quiet, settings):
    settings.WARNING_OVERDUE_MILESTONES = 1
    plan = Plan.objects.create(
        brand=quiet, organization_id=quiet.organization_id, start_year=2026, end_year=2027, goals="g"
    )
    milestone = Milestone.objects.create(
        plan=plan, organization_id=quiet.organization_id, title="m", due_date=TODAY - timedelta(days=1)
    )
    evaluate()
    assert open_rules(quiet) == ["milestones"]
    Milestone.objects.filter(pk=milestone.pk).update(completed_on=TODAY)
    evaluate()
    assert open_rules(quiet) == []


def test_silence_fires_after_the_set_days_and_a_rating_resolves_it(tree, quiet, settings):
    settings.WARNING_SILENT_DAYS = 30
    silent = make_brand(tree["community"], "SILENT", name="沉默")
    Brand.objects.filter(pk=silent.pk).update(created_at=timezone.now() - timedelta(days=90))
    add_ratings(silent, [4], TODAY - timedelta(days=31))
    new = make_brand(tree["community"], "NEW", name="新品牌")  # public for less than 30 days: not silent yet
    evaluate()
    assert (open_rules(silent), open_rules(new), open_rules(quiet)) == (["silent"], [], [])
    add_ratings(silent, [4], TODAY - timedelta(days=29))
    evaluate()
    assert open_rules(silent) == []


def test_a_fall_larger_than_chance_fires_and_a_small_one_does_not(tree, quiet):
    falling = make_brand(tree["community"], "FALL", name="下滑")
    steady = make_brand(tree["community"], "STEADY", name="平稳")
    for code in (202608, 202609, 202610):
        add_ratings(falling, [5] * 8 + [4] * 4, month_day(code))
        add_ratings(steady, [5] * 6 + [4] * 6, month_day(code))
    add_ratings(falling, [3] * 6 + [2] * 4 + [4] * 2, month_day(202611))  # from about 4.7 to about 2.8
    add_ratings(steady, [5] * 5 + [4] * 7, month_day(202611))  # 4.5 → 4.42: chance
    evaluate()
    assert (open_rules(falling), open_rules(steady)) == (["fall"], [])
    figures = EarlyWarning.objects.get(brand=falling).figures
    assert (figures["month"], figures["n_after"], figures["n_before"]) == ("2026-11", 12, 36)
    assert (figures["mean_before"], figures["mean_after"]) == (4.667, 2.833)


def test_the_bottom_of_its_domain_two_months_running_fires(tree):
    brands = [make_brand(tree["community"], f"B{i}", name=f"品牌{i}") for i in range(10)]
    for month in (202610, 202611):
        for brand in brands[:8]:
            add_ratings(brand, [5, 4, 4, 4, 4, 4], month_day(month))
        # B9 is last in both months; B8 is last but one in October and among the first in November.
        add_ratings(brands[8], [3, 4, 4, 4, 4, 4] if month == 202610 else [5, 5, 4, 4, 4, 4], month_day(month))
        add_ratings(brands[9], [2, 4, 4, 4, 4, 4], month_day(month))
    evaluate()
    fired = {b.code for b in brands if open_rules(b) == ["bottom"]}
    assert fired == {"B9"}
    figures = EarlyWarning.objects.get(brand=brands[9]).figures
    assert [entry["period"] for entry in figures["periods"]] == ["2026-11", "2026-10"]
    assert all(entry["rank"] == 10 and entry["of"] == 10 for entry in figures["periods"])


def test_a_support_case_from_a_warning_to_its_closing_review(
    tree, quiet, district_reviewer, secretary, other_secretary, outsider, client, settings
):
    settings.WARNING_OVERDUE_MILESTONES = 1
    mentor_brand = make_brand(tree["enterprise"], "MENTOR", name="示范品牌", status="demonstration")
    add_ratings(mentor_brand, [5] * 10, TODAY)
    plan = Plan.objects.create(brand=quiet, organization_id=quiet.organization_id, start_year=2026, end_year=2027)
    Milestone.objects.create(plan=plan, organization_id=quiet.organization_id, title="m", due_date=date(2026, 1, 1))
    evaluate()
    warning = EarlyWarning.objects.get(brand=quiet)
    client.force_login(district_reviewer)
    page = client.get(f"/dashboard/warnings/{warning.pk}/").content.decode()
    assert "示范品牌" not in page  # the enterprise is another domain: not suggested
    response = client.post(
        f"/dashboard/warnings/{warning.pk}/case/", {"mentor": tree["community"].pk, "goal": "三个月内完成滞后节点"}
    )
    case = SupportCase.objects.get()
    assert response.headers["Location"] == f"/support/{case.pk}/"
    warning.refresh_from_db()
    assert (warning.state, case.mentor_id, case.n_before) == ("in_case", tree["community"].pk, 36)
    client.post(f"/support/{case.pk}/actions/", {"text": "结对指导", "owner": "社区党委", "due_on": "2026-12-20"})
    action = case.actions.get()
    # The secretary of the helped organization (the grid's community) marks it done and writes a note.
    client.force_login(secretary)
    assert client.get(f"/support/{case.pk}/").status_code == 200
    client.post(f"/support/{case.pk}/actions/{action.pk}/done/")
    client.post(f"/support/{case.pk}/notes/", {"text": "已完成第一次结对。"})
    assert client.post(f"/support/{case.pk}/close/", {"review": "x"}).status_code == 404  # only reviewers close
    for user in (other_secretary, outsider):
        client.force_login(user)
        assert client.get(f"/support/{case.pk}/").status_code == 404
        assert client.post(f"/support/{case.pk}/notes/", {"text": "x"}).status_code == 404
    client.force_login(district_reviewer)
    add_ratings(quiet, [3, 3], TODAY)
    rebuild(today=TODAY)
    client.post(f"/support/{case.pk}/close/", {"review": "节点已补齐。"})
    case.refresh_from_db()
    assert (case.status, case.n_after, case.review) == ("closed", 38, "节点已补齐。")
    assert list(case.events.values_list("kind", flat=True)) == [
        SupportEvent.Kind.OPENED,
        SupportEvent.Kind.ACTION_ADDED,
        SupportEvent.Kind.ACTION_DONE,
        SupportEvent.Kind.NOTE,
        SupportEvent.Kind.CLOSED,
    ]
    with pytest.raises(ApplicationError):
        services.support_note_add(user=outsider, case=case, text="x")
