"""Celery tasks of the scores app. Thin: a service call, safe to run twice."""

from celery import shared_task

from evaluations.refresh import FOLD_TASK, refresh_started


@shared_task(name=FOLD_TASK)
def scores_fold() -> dict[str, int]:
    """Incremental fold of new ratings and state changes (every 30 s from beat, and after submissions)."""
    from scores.services import scores_fold_incremental

    refresh_started()
    return scores_fold_incremental()


@shared_task(name="scores.recompute")
def scores_recompute() -> dict[str, int]:
    """Full recompute of every cell (nightly from beat, and on demand)."""
    from scores.services import scores_recompute_full

    return scores_recompute_full()
