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
    """Deliver the notices whose task never reached the broker (see ``services.notifications_deliver_missed``)."""
    from evaluations.services import notifications_deliver_missed

    return notifications_deliver_missed(days=MISSED_NOTICE_DAYS)
