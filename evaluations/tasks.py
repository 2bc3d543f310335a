"""Celery tasks of the evaluations app. Thin: ids in, a service call, safe to run twice."""

from celery import shared_task

# --- rectifications and notifications ---


@shared_task(name="evaluations.notify_rectification")
def notify_rectification(rectification_id: int, kind: str) -> int:
    from evaluations.services import notification_deliver

    return notification_deliver(rectification_id=rectification_id, kind=kind)


@shared_task(name="evaluations.rectifications_mark_overdue")
def mark_overdue() -> int:
    from evaluations.services import rectifications_mark_overdue

    return rectifications_mark_overdue()


@shared_task(name="evaluations.rectifications_remind_due")
def remind_due() -> int:
    from evaluations.services import rectifications_remind_due

    return rectifications_remind_due()


@shared_task(name="evaluations.notifications_send_digest")
def send_digest() -> int:
    from evaluations.services import notifications_send_digest

    return notifications_send_digest()


# Notices are delivered late for this long at most; after that the digest and the pages are news enough.
MISSED_NOTICE_DAYS = 2


@shared_task(name="evaluations.notifications_deliver_missed")
def deliver_missed() -> int:
    """Deliver the notices whose task never reached the broker (Redis down when the request committed).

    A rectification opened in the last two days (and over a minute ago) with no "opened" notification,
    or one reminded of a deadline still ahead with no "due tomorrow" notification, is delivered now.
    Safe to run again and alongside the task itself: a notification row per recipient and event is
    written before its mail, and nothing is sent twice. Returns the mails sent.
    """
    from datetime import timedelta

    from django.utils import timezone

    from evaluations.models import Notification, Rectification
    from evaluations.services import notification_deliver

    now = timezone.now()
    opened = Rectification.objects.filter(
        created_at__gte=now - timedelta(days=MISSED_NOTICE_DAYS), created_at__lt=now - timedelta(minutes=1)
    ).exclude(notifications__kind=Notification.Kind.OPENED)
    reminded = Rectification.objects.filter(
        status__in=Rectification.AWAITING_RESPONSE, reminded_on__gte=timezone.localdate()
    ).exclude(notifications__kind=Notification.Kind.DUE_TOMORROW)
    sent = 0
    for kind, missed in ((Notification.Kind.OPENED, opened), (Notification.Kind.DUE_TOMORROW, reminded)):
        for pk in list(missed.order_by("pk").values_list("pk", flat=True)):
            sent += notification_deliver(rectification_id=pk, kind=kind)
    return sent
