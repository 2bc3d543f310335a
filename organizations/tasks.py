"""Celery tasks of the organizations app: delivering the notice outbox. Thin: ids in, a service call."""

from celery import shared_task


@shared_task(name="organizations.notice_deliver")
def notice_deliver(notice_id: int) -> bool:
    from organizations.services import notice_deliver

    return notice_deliver(notice_id=notice_id)


@shared_task(name="organizations.notices_deliver_due")
def notices_deliver_due() -> int:
    """The beat's sweep: retries that are due, and notices whose task never ran."""
    from organizations.services import notices_deliver_due

    return notices_deliver_due()


@shared_task(name="organizations.notices_send_digest")
def notices_send_digest() -> int:
    from organizations.services import notices_send_digest

    return notices_send_digest()
