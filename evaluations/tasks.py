"""Celery tasks of the evaluations app. Thin: ids in, a service call, safe to run twice."""

from celery import shared_task

# --- rectifications (their notices: organizations.tasks) ---


@shared_task(name="evaluations.rectifications_mark_overdue")
def mark_overdue() -> int:
    from evaluations.services import rectifications_mark_overdue

    return rectifications_mark_overdue()


@shared_task(name="evaluations.rectifications_remind_due")
def remind_due() -> int:
    from evaluations.services import rectifications_remind_due

    return rectifications_remind_due()
