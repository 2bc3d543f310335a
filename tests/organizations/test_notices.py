"""The notice outbox: a row written in its event's transaction, delivered once, retried, swept, digested."""

import smtplib
import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from config import degraded
from config.links import absolute_url
from config.settings.base import _default_site_url
from evaluations import integrity
from evaluations import services as evaluation_services
from evaluations.models import Evaluation, Rectification
from evaluations.workdays import add_working_days
from organizations import services
from organizations.admin import NoticeAdmin
from organizations.models import Membership, Notice
from organizations.tasks import notice_deliver, notices_deliver_due, notices_send_digest
from tests.factories import UserFactory, grant, make_brand

pytestmark = pytest.mark.django_db

SITE = "https://dj.example.cn"


@pytest.fixture(autouse=True)
def _site():
    """Links on a known address; no degraded mode (process-wide) left by another test to hold ratings."""
    degraded.reset()
    with override_settings(SITE_URL=SITE, EVALUATION_POW_SOFT_LIMIT=100):
        yield
    degraded.reset()


@pytest.fixture
def brand(tree):
    return make_brand(tree["community"], code="hyl01", name="红色家园")


def bad_review(brand, device: str = "bad", **fields) -> Evaluation:
    signals = integrity.ClientSignals(ip=f"10.0.{len(device)}.{sum(map(ord, device)) % 250}", device_key=device)
    return evaluation_services.evaluation_submit(
        brand=brand, overall=1, signals=signals, channel=Evaluation.Channel.API, **fields
    ).evaluation


def write_notice(recipient, key: str = "test:1") -> Notice:
    """A notice of a made-up event, written the way every app writes one."""
    with transaction.atomic():
        [notice] = services.notices_write(
            recipients=[recipient],
            kind="test",
            key=key,
            template="organizations/mail/digest",
            context={"notices": [], "count": 1},
            path="/workspace/",
        )
    return notice


def make_due(*notices: Notice) -> None:
    Notice.objects.filter(pk__in=[n.pk for n in notices]).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


# --- a row iff its event committed --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_notice_row_exists_only_if_its_event_committed(brand, secretary):
    with mock.patch("config.tasks.enqueue", return_value=True) as enqueue:
        with pytest.raises(RuntimeError), transaction.atomic():
            bad_review(brand, device="rolled-back")
            assert Notice.objects.count() == 1  # inside the transaction, written with the rectification
            raise RuntimeError("the request failed after the rating")
        assert (Rectification.objects.count(), Notice.objects.count(), enqueue.call_count) == (0, 0, 0)
        bad_review(brand, device="committed")
    notice = Notice.objects.get()
    rectification = Rectification.objects.get()
    assert (notice.recipient, notice.kind, notice.key, notice.status) == (
        secretary,
        "rectification_opened",
        f"rectification:{rectification.pk}:opened",
        "pending",
    )
    # Delivery is asked for only once the transaction has committed.
    assert [(c.args[0].name, *c.args[1:]) for c in enqueue.call_args_list] == [
        ("organizations.notice_deliver", notice.pk)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_new_rectification_mails_its_secretary_with_an_absolute_link_and_the_full_name(brand, secretary):
    secretary.display_name = "王芳"
    secretary.save()
    staff = UserFactory(username="staff", first_name="小明", last_name="李")
    grant(staff, brand.organization, Membership.Role.STAFF)
    reviewer = UserFactory(username="reviewer")  # a reviewer of the organization hears nothing of its reviews
    grant(reviewer, brand.organization, Membership.Role.REVIEWER)
    mail.outbox.clear()
    bad_review(brand, contact="13812345678")
    rectification = Rectification.objects.get()
    link = f"{SITE}/workspace/rectifications/{rectification.pk}/"
    assert sorted(m.to[0] for m in mail.outbox) == ["secretary@example.org", "staff@example.org"]
    by_address = {m.to[0]: m for m in mail.outbox}
    message = by_address["secretary@example.org"]
    assert message.subject == "【党建品牌平台】新的整改：红色家园"
    due, call_back = rectification.due_on.isoformat(), rectification.contact_due_on.isoformat()
    assert message.body == (
        f"王芳，您好：\n\n“红色家园”收到一条差评，请在{due}前答复。\n"
        f"评价人留下了联系方式，请在{call_back}前回访。\n\n{link}\n"
    )
    assert by_address["staff@example.org"].body.startswith("小明 李，您好：")
    assert list(Notice.objects.order_by("recipient__username").values_list("status", "attempts", "link")) == [
        ("sent", 1, link),
        ("sent", 1, link),
    ]


def test_the_name_falls_back_to_the_username_only_without_a_name(secretary):
    notice = write_notice(secretary)
    assert notice.body.startswith("secretary，您好：")


def test_site_url_defaults_to_the_first_real_host_or_the_development_server():
    assert _default_site_url(["portal.example.cn", "localhost"]) == "https://portal.example.cn"
    assert _default_site_url(["127.0.0.1", "localhost", "testserver"]) == "http://127.0.0.1:8000"
    assert _default_site_url([".example.cn"]) == "https://example.cn"
    assert _default_site_url(["*"]) == "http://127.0.0.1:8000"
    assert absolute_url("/b/hyl01/") == f"{SITE}/b/hyl01/"
    with override_settings(SITE_URL="", SITE_URL_DEFAULT="https://portal.example.cn"):
        assert absolute_url("/b/hyl01/") == "https://portal.example.cn/b/hyl01/"
    # The test settings' ALLOWED_HOSTS are the defaults: mails link to the development server.
    assert settings.SITE_URL_DEFAULT == "http://127.0.0.1:8000"


# --- delivery: retries, once only, the sweep ---------------------------------------------------


def test_a_failed_mail_is_retried_with_growing_delay_and_then_sent(secretary, django_capture_on_commit_callbacks):
    refused = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    real_send = services.send_mail
    outcomes = iter([refused, refused, None])

    def flaky_server(*args, **kwargs):
        if error := next(outcomes):
            raise error
        return real_send(*args, **kwargs)

    with mock.patch.object(services, "send_mail", side_effect=flaky_server) as send:
        with django_capture_on_commit_callbacks(execute=True):
            notice = write_notice(secretary)
        # First attempt, from the task after commit: failed, recorded, due again in a minute.
        notice.refresh_from_db()
        first_delay = notice.next_attempt_at - timezone.now()
        assert (notice.status, notice.attempts, notice.last_error) == (
            "pending",
            1,
            "SMTPServerDisconnected: Connection unexpectedly closed",
        )
        assert timedelta(seconds=58) < first_delay <= timedelta(seconds=60)
        # Not due yet: neither the task run again nor the sweep tries.
        assert (notice_deliver.delay(notice.pk).get(), notices_deliver_due.delay().get()) == (False, 0)
        assert send.call_count == 1
        make_due(notice)
        assert notices_deliver_due.delay().get() == 0
        notice.refresh_from_db()
        assert (notice.status, notice.attempts) == ("pending", 2)
        assert timedelta(seconds=118) < notice.next_attempt_at - timezone.now() <= timedelta(seconds=120)
        make_due(notice)
        assert notices_deliver_due.delay().get() == 1
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, send.call_count, len(mail.outbox)) == ("sent", 3, 3, 1)
    assert mail.outbox[0].to == ["secretary@example.org"]
    assert notices_deliver_due.delay().get() == 0


def test_the_delay_doubles_up_to_its_cap():
    assert [services.retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert services.retry_delay(30) == timedelta(seconds=settings.NOTICE_RETRY_MAX_SECONDS)


@override_settings(NOTICE_MAX_ATTEMPTS=3)
def test_after_the_last_attempt_the_notice_is_failed_and_the_admin_can_send_it_again(secretary, rf):
    notice = write_notice(secretary)
    with mock.patch.object(services, "send_mail", side_effect=ConnectionRefusedError(111, "Connection refused")):
        for _ in range(4):
            make_due(notice)
            assert notices_deliver_due.delay().get() == 0
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.last_error) == (
        "failed",
        3,
        "ConnectionRefusedError: [Errno 111] Connection refused",
    )
    assert mail.outbox == []
    # The admin lists it among the failed, and "send again" gives it a fresh set of attempts.
    admin = NoticeAdmin(Notice, None)
    assert admin.get_list_filter(None) == ["status", "kind"]
    assert services.notices_retry(notice_ids=[notice.pk]) == 1
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == ("pending", 0)
    assert notices_deliver_due.delay().get() == 1
    assert len(mail.outbox) == 1


def test_two_deliveries_at_once_send_one_mail(secretary):
    """The second delivery starts while the first is talking to the mail server: it finds nothing to do."""
    notice = write_notice(secretary)
    real_send = services.send_mail
    second: list[bool] = []

    def send_while_another_worker_tries(*args, **kwargs):
        second.append(services.notice_deliver(notice_id=notice.pk))
        second.append(services.notices_deliver_due())
        return real_send(*args, **kwargs)

    with mock.patch.object(services, "send_mail", side_effect=send_while_another_worker_tries):
        assert services.notice_deliver(notice_id=notice.pk) is True
    assert (second, len(mail.outbox)) == ([False, 0], 1)
    assert services.notice_deliver(notice_id=notice.pk) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_notice_send_it_once_on_postgresql(secretary):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent connections: PostgreSQL only")
    with mock.patch("config.tasks.enqueue", return_value=False):  # no task: the two workers below race for it
        notice = write_notice(secretary)
    # Both workers have read the notice as pending and due before either claims it.
    both_read = threading.Barrier(2, timeout=10)
    real_count = services._mails_sent_today

    def count_then_wait(recipient_id):
        count = real_count(recipient_id)
        both_read.wait()
        return count

    results = []

    def worker():
        try:
            results.append(services.notice_deliver(notice_id=notice.pk))
        finally:
            connection.close()

    with mock.patch.object(services, "_mails_sent_today", side_effect=count_then_wait):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
    assert sorted(results) == [False, True]
    assert len(mail.outbox) == 1
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == ("sent", 1)


def test_the_beat_sweep_sends_a_notice_whose_task_was_lost(brand, secretary, django_capture_on_commit_callbacks):
    with (
        mock.patch("config.tasks.enqueue", return_value=False),  # the broker was down at commit
        django_capture_on_commit_callbacks(execute=True),
    ):
        bad_review(brand)
    assert (Notice.objects.get().status, mail.outbox) == ("pending", [])
    assert notices_deliver_due.delay().get() == 1
    assert [m.to for m in mail.outbox] == [["secretary@example.org"]]
    assert notices_deliver_due.delay().get() == 0  # nothing twice
    assert settings.CELERY_BEAT_SCHEDULE["notices-deliver-due"] == {
        "task": "organizations.notices_deliver_due",
        "schedule": 60.0,
    }


def test_a_worker_that_died_mid_send_leaves_a_claim_the_sweep_takes_up_after_the_lease(secretary):
    notice = write_notice(secretary)
    # The process is killed while the mail server talks.
    with mock.patch.object(services, "send_mail", side_effect=KeyboardInterrupt), pytest.raises(KeyboardInterrupt):
        services.notice_deliver(notice_id=notice.pk)
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == ("pending", 1)
    assert timedelta(seconds=298) < notice.next_attempt_at - timezone.now() <= timedelta(seconds=300)
    assert notices_deliver_due.delay().get() == 0
    make_due(notice)
    assert notices_deliver_due.delay().get() == 1
    assert len(mail.outbox) == 1


# --- the daily digest and reminders ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@override_settings(NOTIFICATION_DIGEST_THRESHOLD=2)
def test_past_the_threshold_notices_wait_for_one_daily_digest(brand, secretary):
    mail.outbox.clear()
    for i in range(5):
        bad_review(brand, device=f"d{i}")
    assert len(mail.outbox) == 2
    assert sorted(Notice.objects.values_list("status", flat=True)) == ["digest"] * 3 + ["sent"] * 2
    assert notices_send_digest.delay().get() == 1
    assert len(mail.outbox) == 3
    digest = mail.outbox[2]
    assert digest.subject == "【党建品牌平台】每日汇总：3条通知"
    links = [f"{SITE}/workspace/rectifications/{r.pk}/" for r in Rectification.objects.order_by("pk")[2:]]
    assert digest.body == (
        "secretary，您好：\n\n自上次邮件以来的通知：\n"
        + "".join(f"\n- 【党建品牌平台】新的整改：红色家园\n  {link}" for link in links)
        + "\n"
    )
    assert sorted(Notice.objects.values_list("status", "in_digest")) == [("sent", False)] * 2 + [("sent", True)] * 3
    assert notices_send_digest.delay().get() == 0


def test_a_digest_that_cannot_be_sent_waits_for_the_next(secretary):
    notice = write_notice(secretary)
    Notice.objects.filter(pk=notice.pk).update(status=Notice.Status.DIGEST)
    with mock.patch.object(services, "send_mail", side_effect=smtplib.SMTPDataError(451, "try later")):
        assert notices_send_digest.delay().get() == 0
    notice.refresh_from_db()
    assert (notice.status, notice.last_error) == ("digest", "SMTPDataError: (451, 'try later')")
    assert notices_send_digest.delay().get() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_reminder_goes_out_a_day_before_each_due_date_once(brand, secretary):
    from evaluations.tasks import remind_due

    bad_review(brand)
    rectification = Rectification.objects.get()
    tomorrow = add_working_days(timezone.localdate(), 1)
    Rectification.objects.filter(pk=rectification.pk).update(due_on=tomorrow)
    mail.outbox.clear()
    assert remind_due.delay().get() == 1
    assert remind_due.delay().get() == 0
    assert [m.subject for m in mail.outbox] == ["【党建品牌平台】整改明天到期：红色家园"]
    assert list(Notice.objects.filter(kind="rectification_due").values_list("key", flat=True)) == [
        f"rectification:{rectification.pk}:due:{tomorrow.isoformat()}"
    ]
