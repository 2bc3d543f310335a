"""Celery tasks of the evaluations app: thin, named, safe to run twice; the work is a service call."""

from celery import shared_task

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
