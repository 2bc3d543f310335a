"""Asking the scores layer for a fold after ratings change, without importing it.

The fold is the Celery task named ``FOLD_TASK`` (registered by the `scores` app, which sits above this
one); it is looked up by name in the app's registry, so eager mode (no REDIS_URL) still runs it at once.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache

from config.tasks import enqueue
from evaluations import fastpath

FOLD_TASK = "scores.fold"
REFRESH_PENDING_KEY = "scores:refresh-pending"
FOLD_STARTED_KEY = "scores:fold-started"


def request_refresh() -> bool:
    """Ask for an incremental fold soon; call it after a rating or a state change commits.

    Debounced: only the first request in a window enqueues the job (a few seconds later, and no
    sooner than ``SCORE_REFRESH_MIN_INTERVAL_SECONDS`` after the previous fold started), so a burst
    of submissions is one job. The job clears the key when it starts (`refresh_started`), so a rating
    committed after that start gets a job of its own and none is left unfolded. Returns whether a job
    was enqueued. With tasks eager (no REDIS_URL) the job runs at once, in the caller. With the broker
    down nothing is enqueued and nothing raised; the beat's fold catches up when it is back.
    """
    countdown = settings.SCORE_REFRESH_DELAY_SECONDS
    last_started = cache.get(FOLD_STARTED_KEY)
    if last_started is not None:
        next_allowed = last_started + settings.SCORE_REFRESH_MIN_INTERVAL_SECONDS - time.time()
        countdown = max(countdown, math.ceil(next_allowed))
    # The key outlives the countdown so a lost job only delays folding until the key expires.
    if not fastpath.add_json(REFRESH_PENDING_KEY, 1, timeout=countdown + 60):
        return False
    if not enqueue(FOLD_TASK, countdown=countdown):
        # Broker down: the beat's fold (every 30 s, from the database watermark) catches up once it is
        # back; the key goes so that a submission after the outage asks again.
        cache.delete(REFRESH_PENDING_KEY)
        return False
    return True


def refresh_started() -> None:
    """Called by the fold as it starts: requests from now on enqueue a new job, spaced from this one."""
    cache.set(FOLD_STARTED_KEY, time.time(), 24 * 3600)
    cache.delete(REFRESH_PENDING_KEY)
