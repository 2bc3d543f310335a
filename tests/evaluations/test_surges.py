"""Surge holds, honest receipts and the busy community: nobody is silently dropped."""

from datetime import timedelta
from unittest import mock

import pytest
from django.test import override_settings
from django.utils import timezone

from evaluations import integrity, services, surges
from evaluations.models import Evaluation, Rectification, Surge
from scores import services as score_services
from scores.models import ScoreCell
from tests.evaluations.test_views import RATE, rate

pytestmark = pytest.mark.django_db

SUBMIT_API = "/api/v1/brands/hyl01/evaluations/"


def cells() -> list[tuple]:
    return sorted(ScoreCell.objects.values_list("brand_id", "period", "masses_n", "masses_grade_5", "masses_bad_n"))


def test_the_threshold_is_the_poisson_tail():
    # λ = 1: P(X > 5) ≈ 5.9e-4 > 1e-4 ≥ P(X > 6) ≈ 8.3e-5.
    assert surges.poisson_threshold(1.0, 1e-4) == 6
    # λ = 10: P(X > 23) ≈ 1.2e-4 > 1e-4 ≥ P(X > 24) ≈ 4.7e-5.
    assert surges.poisson_threshold(10.0, 1e-4) == 24
    assert surges.poisson_threshold(0.0, 1e-4) == 0
    # A busy brand (or a very large SURGE_MIN_DAILY): e**-rate underflows; the normal approximation answers,
    # close to the exact tail at the switch and without hanging far above it.
    assert surges.poisson_threshold(100.0, 1e-4) == 139  # exact: P(X > 138) ≈ 1.1e-4, P(X > 139) ≈ 7.9e-5
    assert abs(surges.poisson_threshold(100.001, 1e-4) - 139) <= 2
    assert surges.poisson_threshold(7_000_000.0, 1e-4) == 7_009_840


def test_the_expected_rate_is_the_larger_of_own_history_and_peers(brand, other_brand, tree, signals):
    from tests.factories import make_brand

    peer = make_brand(tree["grid"], code="wg01", name="网格连心")
    today = timezone.localdate()
    for days_ago, n in ((1, 28), (3, 28)):  # 56 counted ratings of the brand in 28 days: 2 a day
        for i in range(n):
            Evaluation.objects.create(
                brand=brand, organization_id=brand.organization_id, overall=5, receipt=f"R{days_ago}-{i}",
                device_hash=f"d{days_ago}-{i}", ip_hash="x", rated_on=today - timedelta(days=days_ago),
            )  # fmt: skip
    expectation = surges.brand_expectation(brand=brand, today=today)
    assert (expectation.own_rate, expectation.expected) == (2.0, 2.0)
    # its peer in the same domain has no history: the median of (2, 0) is 1
    assert expectation.peer_rate == 1.0
    assert expectation.threshold == surges.poisson_threshold(2.0, 1e-4) == 9
    assert expectation.week_threshold == surges.poisson_threshold(14.0, 1e-4) == 30
    assert surges.brand_expectation(brand=peer, today=today).expected == 1.0


@override_settings(EVALUATION_POW_SOFT_LIMIT=10_000, EVALUATION_BURST_LIMIT=10_000, SURGE_MIN_COUNT=10)
def test_a_burst_beyond_the_rule_is_held_and_released_in_one_action_then_folds_like_a_full_recompute(
    brand, district_reviewer
):
    states = []
    for i in range(15):
        signals = integrity.ClientSignals(ip=f"10.{i}.0.1", device_key=f"phone-{i}")
        grade = 1 if i == 14 else 5
        contact = "13800000000" if i == 14 else ""
        result = services.evaluation_submit(brand=brand, overall=grade, contact=contact, signals=signals, channel="api")
        states.append(result.evaluation.state)
    assert states == ["counted"] * 10 + ["flagged"] * 5
    surge = Surge.objects.get()
    assert (surge.day, surge.status, surge.threshold, surge.expected) == (timezone.localdate(), "open", 10, 1.0)
    held = Evaluation.objects.filter(surge=surge)
    assert list(held.values_list("state_reason", flat=True).distinct()) == ["surge"]
    # the held bad review with a contact opened its rectification, which shows the hold
    assert Rectification.objects.get().evaluation.state == "flagged"
    score_services.scores_fold_incremental()
    assert ScoreCell.objects.get(brand=brand, period=0).masses_n == 10

    services.surge_decide(surge=surge, release=True, actor=district_reviewer, note="社区议事会")
    surge.refresh_from_db()
    assert (surge.status, surge.decided_by_id, surge.note) == ("released", district_reviewer.pk, "社区议事会")
    assert Evaluation.objects.filter(state="counted").count() == 15
    assert Rectification.objects.count() == 1  # not a second one
    score_services.scores_fold_incremental()
    folded = cells()
    assert ScoreCell.objects.get(brand=brand, period=0).masses_n == 15
    score_services.scores_recompute_full()
    assert cells() == folded
    # released: the rest of the day counts
    signals = integrity.ClientSignals(ip="10.99.0.1", device_key="late")
    assert services.evaluation_submit(brand=brand, overall=5, signals=signals, channel="api").evaluation.state == (
        "counted"
    )


@override_settings(
    EVALUATION_POW_SOFT_LIMIT=10_000, EVALUATION_BURST_LIMIT=10_000, SURGE_MIN_COUNT=3, SURGE_MIN_DAILY=0.01
)
def test_a_rejected_surge_excludes_its_ratings_and_the_reviewer_decides_once(client, brand, district_reviewer):
    for i in range(5):
        signals = integrity.ClientSignals(ip=f"10.{i}.0.1", device_key=f"phone-{i}")
        services.evaluation_submit(brand=brand, overall=5, signals=signals, channel="api")
    surge = Surge.objects.get()
    client.force_login(district_reviewer)
    page = client.get(f"/dashboard/surges/{surge.pk}/").content.decode()
    assert '<dd class="col-5 col-sm-8" id="held">2</dd>' in page
    assert client.post(f"/dashboard/surges/{surge.pk}/decide/", {"decision": "reject"}).status_code == 302
    assert sorted(Evaluation.objects.values_list("state", flat=True)) == ["counted"] * 3 + ["excluded"] * 2
    again = client.post(f"/dashboard/surges/{surge.pk}/decide/", {"decision": "release"})
    assert again.status_code == 409  # already decided: a conflict, as in the API
    assert Evaluation.objects.filter(state="excluded").count() == 2
    bad = client.post(f"/dashboard/surges/{surge.pk}/decide/", {"decision": "maybe"})
    assert bad.status_code == 400


@override_settings(
    EVALUATION_POW_SOFT_LIMIT=10_000, EVALUATION_BURST_LIMIT=10_000, SURGE_MIN_COUNT=1, SURGE_MIN_DAILY=0.01
)
def test_surges_are_reviewed_only_in_the_reviewers_subtree(
    client, brand, other_brand, district_reviewer, city_reviewer, secretary, other_secretary, outsider
):
    for target in (brand, other_brand):
        for i in range(2):
            signals = integrity.ClientSignals(ip=f"10.{i}.0.1", device_key=f"phone-{target.code}-{i}")
            services.evaluation_submit(brand=target, overall=5, signals=signals, channel="api")
    ours, theirs = Surge.objects.get(brand=brand), Surge.objects.get(brand=other_brand)
    client.force_login(district_reviewer)
    listing = client.get("/dashboard/surges/").content.decode()
    assert f'data-surge="{ours.pk}"' in listing and f'data-surge="{theirs.pk}"' not in listing
    assert client.get(f"/dashboard/surges/{theirs.pk}/").status_code == 404
    assert client.post(f"/dashboard/surges/{theirs.pk}/decide/", {"decision": "release"}).status_code == 404
    for user in (secretary, other_secretary, outsider):
        client.force_login(user)
        assert client.get(f"/dashboard/surges/{ours.pk}/").status_code == 404
        assert client.post(f"/dashboard/surges/{ours.pk}/decide/", {"decision": "release"}).status_code == 404
        assert f'data-surge="{ours.pk}"' not in client.get("/dashboard/surges/").content.decode()
    client.force_login(city_reviewer)
    assert client.get(f"/dashboard/surges/{theirs.pk}/").status_code == 200
    assert Surge.objects.filter(status="open").count() == 2


@override_settings(EVALUATION_POW_SOFT_LIMIT=1)
def test_without_javascript_past_the_soft_limit_a_bad_review_with_contact_is_held_and_opens_a_rectification(
    client, brand
):
    client.get(RATE)
    rate(client, overall="5")
    client.cookies.clear()
    client.get(RATE)  # the page now carries the challenge, which this browser cannot run
    response = rate(client, ua="old-phone", overall="1", comment="电梯坏了", contact="13912345678")
    assert response.status_code == 302
    evaluation = Evaluation.objects.order_by("-id").first()
    assert (evaluation.state, evaluation.state_reason) == ("flagged", "no-proof")
    rectification = Rectification.objects.get()
    assert rectification.evaluation_id == evaluation.pk
    for url in (response.headers["Location"], f"/track/{evaluation.receipt}/"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert 'data-status="held"' in page
        assert 'data-reason="no-proof"' in page
        assert "A rating made with a rating code from the service point counts at once." in page
        assert "the organization will call you back to verify it" in page
    assert client.get(f"/api/v1/evaluations/{evaluation.receipt}/").json()["status"] == "held"


def test_thirty_phones_behind_one_address_are_all_stored_and_told_where_they_stand(api_client, brand, secretary):
    """Community Wi-Fi: thirty phones rate one brand from one address within ten minutes."""
    statuses = []
    for _phone in range(30):
        device = api_client.get(SUBMIT_API).json()["device_id"]
        response = api_client.post(SUBMIT_API, {"overall": 5}, format="json", HTTP_X_DEVICE_ID=device)
        assert response.status_code == 201
        statuses.append(response.json()["status"])
    assert Evaluation.objects.count() == 30
    counted = statuses.count("counted")
    assert statuses == ["counted"] * counted + ["held"] * (30 - counted)
    assert counted == 3  # the proof of work is asked for from the fourth on, and this client sends none
    # With codes from the service point, all thirty count.
    Evaluation.objects.all().delete()
    codes = services.rating_codes_issue(brand=brand, actor=secretary, count=30, valid_days=1)[1]
    for code in codes:
        device = api_client.get(SUBMIT_API).json()["device_id"]
        body = api_client.post(SUBMIT_API, {"overall": 5, "code": code}, format="json", HTTP_X_DEVICE_ID=device).json()
        assert (body["status"], body["verified"]) == ("counted", True)
    assert Evaluation.objects.filter(state="counted", verified=True).count() == 30


@override_settings(EVALUATION_POW_SOFT_LIMIT=10_000, EVALUATION_BURST_LIMIT=10_000, SURGE_MIN_COUNT=10)
def test_a_slow_stuffer_under_the_daily_line_is_held_by_the_week(brand):
    """Nine a day stays under the daily threshold (10); the week's (19 at one a day) holds the excess."""
    today = timezone.localdate()
    for day in (3, 2, 1):
        with mock.patch("django.utils.timezone.localdate", return_value=today - timedelta(days=day)):
            for i in range(9):
                signals = integrity.ClientSignals(ip=f"10.{day}.{i}.1", device_key=f"phone-{day}-{i}")
                services.evaluation_submit(brand=brand, overall=5, signals=signals, channel="api")
    # No day stood out, but yesterday the week passed 19: its excess is held in yesterday's surge.
    assert list(Surge.objects.values_list("day", flat=True)) == [today - timedelta(days=1)]
    assert Evaluation.objects.filter(state="flagged", surge__isnull=False).count() == 27 - 19
    states = []
    for i in range(3):
        signals = integrity.ClientSignals(ip=f"10.9.{i}.1", device_key=f"today-{i}")
        states.append(
            services.evaluation_submit(brand=brand, overall=5, signals=signals, channel="api").evaluation.state
        )
    assert states == ["flagged"] * 3
    assert Surge.objects.get(day=today).evaluations.count() == 3
