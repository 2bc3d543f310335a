"""The secretary's workspace home (/workspace/): for each own brand, its score and rank with their confidence,
grades, monthly trend, rater groups, rectifications soonest due first and the plan's week, in a number of
queries that does not grow with the number of brands."""

import datetime
import math
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from brands.models import Milestone, Plan
from dashboards import workspace_selectors
from evaluations import integrity, services
from evaluations.models import Evaluation, Rectification
from scores import periods
from scores import selectors as score_selectors
from scores.services import scores_recompute_full
from tests.factories import make_brand

MASSES, MEMBER, SUB_ORG = (
    Evaluation.RaterGroup.MASSES,
    Evaluation.RaterGroup.MEMBER,
    Evaluation.RaterGroup.SUB_ORGANIZATION,
)
_raters = iter(range(1, 10**6))


@pytest.fixture(autouse=True)
def _fixed_prior_and_a_quiet_day(settings):
    """m fixed at 20 so the figures can be computed by hand; no surge holds the day's ratings."""
    settings.SCORE_PRIOR_WEIGHT = 20
    settings.SURGE_MIN_COUNT = 10_000


def submit(brand, grades, *, rater_group=MASSES, contact="") -> list[Evaluation]:
    """Ratings as the web form stores them, each from its own address and device; all must count."""
    evaluations = []
    for grade in grades:
        rater = next(_raters)
        signals = integrity.ClientSignals(
            ip=f"10.{rater // 256 % 256}.{rater % 256}.7",  # a network (/24) of its own: no burst
            device_key=f"device-{rater}",
            user_agent="pytest",
            fill_seconds=30,
        )
        result = services.evaluation_submit(
            brand=brand,
            overall=grade,
            signals=signals,
            channel=Evaluation.Channel.WEB,
            rater_group=rater_group,
            contact=contact,
        )
        assert result.evaluation.state == Evaluation.State.COUNTED
        evaluations.append(result.evaluation)
    return evaluations


def months_ago(count: int) -> datetime.date:
    """The 15th of the month `count` months before this one."""
    today = timezone.localdate()
    key = f"{today.year}-{today.month:02d}"
    for _ in range(count):
        key = periods.period_previous(key)
    return datetime.date(int(key[:4]), int(key[5:]), 15)


def home(client, user):
    client.force_login(user)
    response = client.get("/workspace/")
    assert response.status_code == 200
    return response


def brand_in(response, code: str):
    return next(brand for brand in response.context["brands"] if brand.code == code)


@pytest.fixture
def rated(tree):
    """Our brand A (community) and another organization's brand B (enterprise), rated by hand.

    A this month: residents 5 5 5 4 4 3; two months ago: members 5 4 and a subordinate organization 1.
    B this month: residents 3 3 3 3 3 3.
    """
    a = make_brand(tree["community"], code="WSA01", name="红色家园")
    b = make_brand(tree["enterprise"], code="WSB01", name="海润先锋")
    submit(a, [5, 5, 5, 4, 4, 3])
    earlier = submit(a, [5, 4], rater_group=MEMBER) + submit(a, [1], rater_group=SUB_ORG)
    Evaluation.objects.filter(pk__in=[e.pk for e in earlier]).update(rated_on=months_ago(2))
    submit(b, [3, 3, 3, 3, 3, 3])
    scores_recompute_full()
    return {"a": a, "b": b}


def test_login_required(client):
    response = client.get("/workspace/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/workspace/")


def test_score_rank_grades_trend_and_groups_are_exact(client, secretary, rated):
    response = home(client, secretary)
    figures = brand_in(response, "WSA01").scores

    # All time, all raters: A n = 9, grade sum 36; B n = 6, sum 18; C = 54 / 15 = 3.6, m = 20.
    row = figures.row
    assert (row.n, row.mean, row.rank) == (9, 4.0, 1)
    assert row.score == pytest.approx((36 + 20 * 3.6) / (9 + 20), rel=1e-12)  # 108 / 29 = 3.724
    assert figures.ranked_among == 2
    assert figures.tentative is True  # 9 ratings < m = 20
    assert [(grade, count) for grade, _label, count in figures.grades] == [(5, 4), (4, 3), (3, 1), (2, 0), (1, 1)]

    # This month: A 5 5 5 4 4 3 (sum 26, squares 116), B six 3s (sum 18, squares 54); C = 44 / 12.
    # Pooled within-brand variance (170 − (26² + 18²) / 6) / (12 − 2) = 1/3; interval ± 1.96·√((1/3) / 26).
    this_month, two_months_ago = months_ago(0).strftime("%Y-%m"), months_ago(2).strftime("%Y-%m")
    score = (26 + 20 * 44 / 12) / (6 + 20)
    latest = figures.latest
    assert (latest.period, latest.n) == (this_month, 6)
    assert latest.score == pytest.approx(score, rel=1e-12)
    assert latest.low == pytest.approx(score - 1.96 * math.sqrt((1 / 3) / 26), rel=1e-12)
    assert latest.high == pytest.approx(score + 1.96 * math.sqrt((1 / 3) / 26), rel=1e-12)

    # The last 12 months, oldest first: two months ago only A was rated (5 4 1), so its score is C = 10 / 3.
    trend = figures.trend
    assert len(trend) == 12 and trend[-1].period == this_month
    assert [(m.period, m.n) for m in trend if m.n] == [(two_months_ago, 3), (this_month, 6)]
    assert trend[-3].score == pytest.approx(10 / 3, rel=1e-12)
    assert trend[-1].score == pytest.approx(score, rel=1e-12)
    assert [m.score for m in trend if not m.n] == [None] * 10

    # Rater groups, each against its own prior: residents A 26/6 and B 18/6 (C = 44 / 12); members (2) and
    # the subordinate organization (1) have fewer than 5 ratings: no score.
    groups = {(g.group, g.n): g.score for g in figures.groups}
    assert groups == {
        (MASSES, 6): pytest.approx((26 + 20 * 44 / 12) / (6 + 20), rel=1e-12),
        (MEMBER, 2): None,
        (SUB_ORG, 1): None,
    }

    body = response.content.decode()
    assert '<span class="workspace-score">3.72</span>' in body
    assert f"{score:.2f} ({latest.low:.2f}–{latest.high:.2f})" in body  # 3.82 (3.60–4.04)
    assert body.count("<svg ") == 2  # the trend chart and the grade bar
    assert 'class="trend-chart' in body and 'role="img"' in body
    assert f'<th scope="row" class="fw-normal">{this_month}</th><td class="text-end">6</td>' in body
    assert f'<td class="text-end">{score:.2f}</td>' in body
    # The chart carries no script and no stylesheet of its own (pygal's are dropped).
    assert "<script" not in body and "<style" not in body


def test_the_batched_reads_agree_with_the_one_brand_reads(rated):
    a, b = rated["a"], rated["b"]
    months = workspace_selectors.trend_months(today=timezone.localdate())
    series = score_selectors.brand_series_many(brand_ids=[a.pk, b.pk], months=months)
    assert series == {a.pk: score_selectors.brand_series(brand=a), b.pk: score_selectors.brand_series(brand=b)}

    one_by_one = {brand.pk: score_selectors.brand_score_summary(brand=brand) for brand in (a, b)}
    cache.clear()  # the batched read shares the one-brand read's cache entries: make it compute its own
    assert score_selectors.brand_score_summaries(brand_ids=[a.pk, b.pk]) == one_by_one
    assert [row.rank for row in one_by_one.values()] == [1, 2]

    batched = score_selectors.brand_group_scores(brand_ids=[a.pk, b.pk])
    assert {(pk, group): (g.n, g.mean, g.score) for pk, groups in batched.items() for group, g in groups.items()} == {
        (row.brand_id, group): (row.n, row.mean, row.score)
        for group in (MASSES, MEMBER, SUB_ORG)
        for row in score_selectors.ranking(period="all", rater_group=group)
    }


def test_rectifications_soonest_due_first_with_the_overdue_marked(client, secretary, tree):
    brand = make_brand(tree["community"], code="WSR01")
    first, second, third, finished = submit(brand, [1, 2, 1, 2], contact="13800000000")
    today = timezone.localdate()
    due = {
        first: (today + datetime.timedelta(days=6), False),
        second: (today - datetime.timedelta(days=2), True),  # past due: overdue
        third: (today + datetime.timedelta(days=1), False),
        finished: (today - datetime.timedelta(days=9), True),
    }
    for evaluation, (due_on, overdue) in due.items():
        Rectification.objects.filter(evaluation=evaluation).update(due_on=due_on, is_overdue=overdue)
    Rectification.objects.filter(evaluation=finished).update(status=Rectification.Status.CONFIRMED)

    response = home(client, secretary)
    listed = brand_in(response, "WSR01").open_rectification_list
    expected = [second.rectification.pk, third.rectification.pk, first.rectification.pk]
    assert [r.pk for r in listed] == expected
    assert [r.evaluation.overall for r in listed] == [2, 1, 1]
    body = response.content.decode()
    links = [body.index(f'href="/workspace/rectifications/{pk}/"') for pk in expected]
    assert links == sorted(links)
    assert f'href="/workspace/rectifications/{finished.rectification.pk}/"' not in body
    assert body.count('text-bg-danger">待整改 · 已超期</span>') == 1  # only the one past due


def test_the_plan_shows_milestones_overdue_or_due_within_a_week(client, secretary, tree):
    brand = make_brand(tree["community"], code="WSP01")
    plan = Plan.objects.create(
        brand=brand, organization=brand.organization, start_year=2025, end_year=2027, goals="目标"
    )
    today = timezone.localdate()

    def milestone(title, days, weight=1, done=False):
        return Milestone.objects.create(
            plan=plan,
            organization=brand.organization,
            title=title,
            due_date=today + datetime.timedelta(days=days),
            weight=weight,
            completed_on=today if done else None,
        )

    late, soon = milestone("走访台账", -3), milestone("议事会", 6)
    milestone("年度总结", 7)  # a week from today: not this week
    milestone("已完成", -1, weight=2, done=True)

    brand_row = brand_in(home(client, secretary), "WSP01")
    assert [(m.pk, m.is_overdue) for m in brand_row.milestones_due] == [(late.pk, True), (soon.pk, False)]
    assert brand_row.progress_percent == 40  # 2 of 5 weight done


def test_another_organizations_brands_never_show(client, secretary, other_secretary, rated):
    submit(rated["b"], [1], contact="13900000000")
    theirs = Rectification.objects.get(brand=rated["b"])

    body = home(client, secretary).content.decode()
    assert "WSA01" in body
    assert "WSB01" not in body and "海润先锋" not in body
    assert f"/workspace/rectifications/{theirs.pk}/" not in body

    response = home(client, other_secretary)
    assert [brand.code for brand in response.context["brands"]] == ["WSB01"]
    assert [r.pk for r in response.context["brands"][0].open_rectification_list] == [theirs.pk]
    assert "WSA01" not in response.content.decode()


def test_a_brand_not_yet_public_has_no_score_section(client, secretary, tree):
    make_brand(tree["community"], code="WSD01", status="draft")
    response = home(client, secretary)
    assert brand_in(response, "WSD01").scores is None
    assert 'class="trend-chart' not in response.content.decode()


def test_the_warnings_hook_renders_nothing_without_warnings_and_lists_them_with(client, secretary, tree):
    make_brand(tree["community"], code="WSW01")
    assert "workspace-warnings" not in home(client, secretary).content.decode()

    assert render_to_string("dashboards/_brand_warnings.html", {"brand": SimpleNamespace(code="X")}).strip() == ""
    quiet = SimpleNamespace(code="X", open_warnings=[])
    assert render_to_string("dashboards/_brand_warnings.html", {"brand": quiet}).strip() == ""
    warned = SimpleNamespace(code="X", open_warnings=["连续两月排名靠后"])
    html = render_to_string("dashboards/_brand_warnings.html", {"brand": warned})
    assert "workspace-warnings" in html and "<li>连续两月排名靠后" in html


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/workspace/").status_code == 200
    return len(queries)


def _busy_brand(tree, number: int) -> None:
    """A public brand with ratings this month and two months ago, an open rectification and a milestone due."""
    brand = make_brand(tree["community"], code=f"WSQ{number:02d}")
    earlier = submit(brand, [4, 3])
    Evaluation.objects.filter(pk__in=[e.pk for e in earlier]).update(rated_on=months_ago(2))
    submit(brand, [5, 4, 4], rater_group=MEMBER)
    submit(brand, [2], contact="13700000000")
    plan = Plan.objects.create(
        brand=brand, organization=brand.organization, start_year=2025, end_year=2027, goals="目标"
    )
    Milestone.objects.create(
        plan=plan, organization=brand.organization, title="节点", due_date=timezone.localdate(), weight=1
    )


def test_query_count_is_the_same_for_1_and_10_brands(client, secretary, tree):
    client.force_login(secretary)

    def counts() -> tuple[int, int]:
        scores_recompute_full()
        cache.clear()  # cold: every score read misses the cache
        cold = _queries(client)
        return cold, _queries(client)  # then warm

    _busy_brand(tree, 0)
    with_one = counts()
    for number in range(1, 10):
        _busy_brand(tree, number)
    with_ten = counts()
    assert len(client.get("/workspace/").context["brands"]) == 10
    assert with_ten == with_one
    assert with_one[0] <= 18  # brands, rectifications, plans, scores, warnings, 帮扶 cases and their actions
