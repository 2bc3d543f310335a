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


# --- scores and rankings ---


@shared_task(name="evaluations.scores_fold")
def scores_fold() -> dict[str, int]:
    """Incremental fold of new ratings and state changes (every 30 s from beat, and after submissions)."""
    from evaluations import scoring

    scoring.refresh_started()
    return scoring.scores_fold_incremental()


@shared_task(name="evaluations.scores_recompute")
def scores_recompute() -> dict[str, int]:
    """Full recompute of every period (nightly from beat, and on demand)."""
    from evaluations import scoring

    return scoring.scores_recompute_full()
