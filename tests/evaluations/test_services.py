"""Submission, integrity and the rectification state machine at the service layer."""

from datetime import date, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone, translation

from config.errors import ApplicationError, http_status
from evaluations import integrity, services
from evaluations.models import (
    CommentStatus,
    Evaluation,
    EvaluationStateChange,
    Rectification,
    RectificationEvent,
)
from evaluations.workdays import add_working_days
from tests.factories import make_brand

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Service messages are asserted in their English msgids here; pages and the API are tested in Chinese."""
    with translation.override("en"):
        yield


def submit(brand, signals, **fields):
    fields.setdefault("overall", 5)
    return services.evaluation_submit(brand=brand, signals=signals, channel=Evaluation.Channel.API, **fields)


# --- working days -----------------------------------------------------------------


def test_working_days_skip_weekends():
    friday = date(2026, 11, 20)
    assert add_working_days(friday, 1) == date(2026, 11, 23)
    assert add_working_days(friday, 5) == date(2026, 11, 27)
    assert add_working_days(date(2026, 11, 16), 5) == date(2026, 11, 23)


@override_settings(RECTIFICATION_HOLIDAYS=["2026-11-23", "2026-11-24"])
def test_working_days_skip_configured_holidays():
    assert add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 25)


# --- submission and integrity ----------------------------------------------------------


def test_a_good_rating_is_counted_with_hashes_and_no_rectification(brand, signals):
    result = submit(brand, signals(), overall=4, management=5, rater_group="member")
    e = Evaluation.objects.get()
    assert (e.state, e.overall, e.management, e.rater_group, e.organization_id) == (
        "counted",
        4,
        5,
        "member",
        brand.organization_id,
    )
    assert result.already_rated is False
    assert len(e.receipt) == 16
    assert e.ip_hash == integrity.salted_hash("ip", "10.0.0.1")
    assert "10.0.0.1" not in e.ip_hash
    assert Rectification.objects.count() == 0


def test_receipts_are_random_and_distinct(brand, signals):
    receipts = {submit(brand, signals(device=f"d{i}")).evaluation.receipt for i in range(5)}
    assert len(receipts) == 5
    assert all(set(r) <= set(services.RECEIPT_ALPHABET) for r in receipts)


def test_a_repeat_from_the_same_device_the_same_day_is_stored_but_not_counted(brand, signals):
    first = submit(brand, signals())
    second = submit(brand, signals(), overall=1)
    assert first.already_rated is False
    assert second.already_rated is True
    assert second.evaluation.state == "excluded"
    assert second.evaluation.state_reason == services.REPEAT_REASON
    assert Evaluation.objects.filter(state="counted").count() == 1
    assert Rectification.objects.count() == 0  # a repeat opens no rectification


def test_another_brand_the_same_day_counts(brand, other_brand, signals):
    submit(brand, signals())
    assert submit(other_brand, signals()).evaluation.state == "counted"


def test_honeypot_is_stored_flagged(brand, signals):
    e = submit(brand, signals(honeypot="http://spam")).evaluation
    assert (e.state, e.state_reason) == ("flagged", "bot-field")


def test_too_fast_form_is_stored_flagged(brand, signals):
    e = submit(brand, signals(fill_seconds=0.5)).evaluation
    assert (e.state, e.state_reason) == ("flagged", "too-fast")


def test_forged_form_token_is_flagged(brand, signals):
    e = submit(brand, signals(form_token_valid=False)).evaluation
    assert (e.state, e.state_reason) == ("flagged", "form-token")


def test_a_held_bad_review_without_contact_opens_no_rectification_until_restored(brand, signals, district_reviewer):
    e = submit(brand, signals(honeypot="x"), overall=1).evaluation
    assert Rectification.objects.count() == 0
    services.evaluation_restore(evaluation=e, actor=district_reviewer, note="checked by phone")
    e.refresh_from_db()
    assert (e.state, e.state_reason) == ("counted", "checked by phone")
    assert Rectification.objects.get().evaluation_id == e.pk
    change = EvaluationStateChange.objects.get()
    assert (change.from_state, change.to_state, change.actor_id) == ("flagged", "counted", district_reviewer.pk)


def test_restore_is_refused_when_the_device_already_counts_that_day(brand, signals, district_reviewer):
    flagged = submit(brand, signals(honeypot="x")).evaluation
    submit(brand, signals())
    with pytest.raises(ApplicationError) as error:
        services.evaluation_restore(evaluation=flagged, actor=district_reviewer)
    assert error.value.message == "This device already has a counted rating of this brand on that day."
    flagged.refresh_from_db()
    assert flagged.state == "flagged"
    assert EvaluationStateChange.objects.count() == 0


@override_settings(EVALUATION_POW_SOFT_LIMIT=2)
def test_past_the_soft_limit_a_rating_without_proof_of_work_is_flagged(brand, signals):
    assert submit(brand, signals(device="a")).evaluation.state == "counted"
    assert submit(brand, signals(device="b")).evaluation.state == "counted"
    third = submit(brand, signals(device="c")).evaluation
    assert (third.state, third.state_reason) == ("flagged", "no-proof")
    solved = integrity.pow_solve(integrity.pow_challenge())
    assert submit(brand, signals(device="d", pow_payload=solved)).evaluation.state == "counted"
    # a solution works once
    replay = submit(brand, signals(device="e", pow_payload=solved)).evaluation
    assert replay.state == "flagged"


@override_settings(EVALUATION_BURST_LIMIT=3, EVALUATION_POW_SOFT_LIMIT=100)
def test_a_burst_from_one_network_is_flagged(brand, signals):
    states = [submit(brand, signals(ip=f"10.1.2.{i}", device=f"d{i}")).evaluation.state for i in range(5)]
    assert states == ["counted", "counted", "counted", "flagged", "flagged"]
    assert Evaluation.objects.filter(state="flagged").first().state_reason == "network"
    # another network is not affected
    assert submit(brand, signals(ip="10.9.9.9", device="x")).evaluation.state == "counted"


@override_settings(EVALUATION_THROTTLE_IP_BRAND=2, EVALUATION_POW_SOFT_LIMIT=100)
def test_throttle_per_ip_per_brand_refuses_with_429(brand, other_brand, signals):
    submit(brand, signals(device="a"))
    submit(brand, signals(device="b"))
    with pytest.raises(ApplicationError) as error:
        submit(brand, signals(device="c"))
    assert http_status(error.value) == 429
    assert error.value.message == "Too many ratings from your network. Please try again in 60 minutes."
    assert Evaluation.objects.count() == 2
    assert submit(other_brand, signals(device="c")).evaluation.state == "counted"


@override_settings(EVALUATION_THROTTLE_IP=2, EVALUATION_THROTTLE_IP_BRAND=100)
def test_throttle_per_ip_overall(brand, other_brand, signals):
    submit(brand, signals(device="a"))
    submit(other_brand, signals(device="b"))
    with pytest.raises(ApplicationError) as error:
        submit(make_brand(brand.organization), signals(device="c"))
    assert http_status(error.value) == 429


def test_comment_is_pending_and_a_listed_word_holds_it(brand, signals):
    plain = submit(brand, signals(device="a"), comment="服务很好").evaluation
    held = submit(brand, signals(device="b"), comment="简直是骗子").evaluation
    none = submit(brand, signals(device="c")).evaluation
    assert (plain.comment_status, plain.comment_reason) == (CommentStatus.PENDING, "")
    assert (held.comment_status, held.comment_reason) == (CommentStatus.HELD, "contains “骗子”")
    assert none.comment_status == CommentStatus.NONE


def test_contact_with_a_good_rating_is_refused(brand, signals):
    with pytest.raises(ApplicationError) as error:
        submit(brand, signals(), overall=4, contact="13800001111")
    assert error.value.field == "contact"
    assert Evaluation.objects.count() == 0


def test_a_non_public_brand_cannot_be_rated(tree, signals):
    draft = make_brand(tree["community"], status="draft")
    with pytest.raises(ApplicationError) as error:
        submit(draft, signals())
    assert http_status(error.value) == 404


def test_mask_contact():
    assert services.mask_contact("13812345678") == "138****5678"
    assert services.mask_contact("wx:abc12") == "w***bc12"
    assert services.mask_contact("") == ""


# --- rectification state machine ---------------------------------------------------------


def bad(brand, signals, device="bad", **kw):
    return submit(brand, signals(device=device), overall=1, **kw).evaluation


def test_a_bad_review_opens_a_rectification_due_in_working_days(brand, signals):
    e = bad(brand, signals, contact="13812345678")
    r = Rectification.objects.get()
    today = timezone.localdate()
    assert (r.evaluation_id, r.organization_id, r.status) == (e.pk, brand.organization_id, "open")
    assert r.due_on == add_working_days(today, 5)
    assert r.contact_due_on == add_working_days(today, 1)
    assert list(r.events.values_list("action", "from_status", "to_status")) == [("opened", "", "open")]


def test_grade_2_opens_one_and_no_contact_means_no_callback_date(brand, signals):
    submit(brand, signals(), overall=2)
    r = Rectification.objects.get()
    assert r.contact_due_on is None


@override_settings(RECTIFICATION_DUE_WORKING_DAYS=3)
def test_due_days_are_configurable(brand, signals):
    bad(brand, signals)
    assert Rectification.objects.get().due_on == add_working_days(timezone.localdate(), 3)


def test_respond_then_satisfied_confirms(brand, signals, secretary):
    bad(brand, signals)
    r = Rectification.objects.get()
    services.rectification_respond(rectification=r, response="已修好路灯", actor=secretary)
    r = services.rectification_verdict(rectification=r, verdict="satisfied")
    assert (r.status, r.verdict, r.response) == ("confirmed", "satisfied", "已修好路灯")
    assert list(r.events.values_list("action", "to_status", "actor__username")) == [
        ("opened", "open", None),
        ("responded", "responded", "secretary"),
        ("verdict", "confirmed", None),
    ]


def test_dissatisfied_reopens_once_then_escalates_and_the_reviewer_closes(brand, signals, secretary, city_reviewer):
    bad(brand, signals)
    r = Rectification.objects.get()
    services.rectification_respond(rectification=r, response="第一次", actor=secretary)
    r = services.rectification_verdict(rectification=r, verdict="dissatisfied")
    assert (r.status, r.reopen_count, r.due_on) == ("reopened", 1, add_working_days(timezone.localdate(), 5))
    services.rectification_respond(rectification=r, response="第二次", actor=secretary)
    r = services.rectification_verdict(rectification=r, verdict="dissatisfied")
    assert r.status == "escalated"
    r = services.rectification_close(rectification=r, ruling="已督办", actor=city_reviewer)
    assert (r.status, r.ruling) == ("closed", "已督办")
    assert [a for a in r.events.values_list("action", flat=True)] == [
        "opened",
        "responded",
        "reopened",
        "responded",
        "escalated",
        "closed",
    ]


def test_wrong_steps_are_refused_with_409(brand, signals, secretary):
    bad(brand, signals)
    r = Rectification.objects.get()
    with pytest.raises(ApplicationError) as error:
        services.rectification_verdict(rectification=r, verdict="satisfied")
    assert (http_status(error.value), error.value.message) == (409, "Not possible while the rectification is “Open”.")
    with pytest.raises(ApplicationError) as error:
        services.rectification_respond(rectification=r, response="  ", actor=secretary)
    assert (error.value.field, error.value.message) == ("response", "Write what was done.")


def test_appeal_upheld_excludes_the_rating_with_the_reason(brand, signals, secretary, district_reviewer):
    e = bad(brand, signals)
    r = Rectification.objects.get()
    r = services.rectification_appeal(rectification=r, reason="恶意差评，同一人多次", actor=secretary)
    assert (r.status, r.status_before_appeal) == ("appealed", "open")
    r = services.rectification_rule_appeal(rectification=r, uphold=True, ruling="核实为恶意", actor=district_reviewer)
    e.refresh_from_db()
    assert (r.status, e.state, e.state_reason) == ("upheld", "excluded", "appeal upheld: 核实为恶意")
    change = EvaluationStateChange.objects.get()
    assert (change.from_state, change.to_state, change.actor_id) == ("counted", "excluded", district_reviewer.pk)


def test_appeal_dismissed_returns_to_work_and_cannot_be_repeated(brand, signals, secretary, district_reviewer):
    e = bad(brand, signals)
    r = Rectification.objects.get()
    services.rectification_appeal(rectification=r, reason="恶意", actor=secretary)
    r = services.rectification_rule_appeal(rectification=r, uphold=False, ruling="评价属实", actor=district_reviewer)
    e.refresh_from_db()
    assert (r.status, e.state) == ("open", "counted")
    with pytest.raises(ApplicationError) as error:
        services.rectification_appeal(rectification=r, reason="再申诉", actor=secretary)
    assert error.value.message == "This review was already appealed once."


def test_overdue_marking_is_idempotent_and_audited(brand, signals):
    bad(brand, signals)
    r = Rectification.objects.get()
    Rectification.objects.filter(pk=r.pk).update(due_on=timezone.localdate() - timedelta(days=1))
    from evaluations.tasks import mark_overdue

    assert mark_overdue.delay().get() == 1
    assert mark_overdue.delay().get() == 0
    r.refresh_from_db()
    assert r.is_overdue is True
    assert r.events.filter(action=RectificationEvent.Action.OVERDUE).count() == 1


def test_the_brand_cache_of_the_api_answers_404_for_non_public_brands(tree):
    from django.http import Http404

    from evaluations.selectors import brand_for_rating

    make_brand(tree["community"], code="priv", status="draft")
    public = make_brand(tree["community"], code="pub")
    for _ in range(2):  # the second answer comes from the cache
        with pytest.raises(Http404):
            brand_for_rating(code="priv")
        cached = brand_for_rating(code="pub")
        assert (cached.pk, cached.organization_id, cached.is_public) == (public.pk, public.organization_id, True)


def test_the_periodic_tasks_are_scheduled():
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "evaluations.rectifications_mark_overdue",
        "evaluations.rectifications_remind_due",
        "organizations.notices_deliver_due",
        "organizations.notices_send_digest",
    } <= tasks
