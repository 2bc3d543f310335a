"""Enqueuing Celery tasks without letting the broker break the caller.

A request that stored a rating must answer even when Redis (the broker) is down or hung: `enqueue`
gives up after the short ``REDIS_TIMEOUT_SECONDS``, records degraded mode (`config.degraded`) and
returns False. Whatever the task would have done is then left to the beat's periodic jobs, which
work from the database: the score fold from its watermark, missed notifications from the sweep
``evaluations.notifications_deliver_missed``. After a failure the broker is tried again only once
per back-off, so an outage costs each request nothing at all.
"""

from __future__ import annotations

import logging

import kombu.exceptions
import redis
from celery import current_app

from config import degraded

logger = logging.getLogger("config.redis")

PART = "broker"
# Connection trouble as Celery reports it (OperationalError), and as the Redis result backend does.
BROKER_ERRORS = (kombu.exceptions.OperationalError, redis.exceptions.RedisError, OSError)


def enqueue(task, *args, countdown: float | None = None, **kwargs) -> bool:
    """Send ``task`` (a task, or the name it is registered under) with these arguments.

    Returns whether the broker took it. With tasks eager (no broker) the task runs now and its errors
    propagate as usual; only broker trouble is swallowed, never a bug in the task or its arguments.
    """
    if isinstance(task, str):
        task = current_app.tasks[task]
    options: dict = {"args": args, "kwargs": kwargs, "countdown": countdown}
    options = {name: value for name, value in options.items() if value}
    if task.app.conf.task_always_eager:
        task.apply_async(**options)
        return True
    if not degraded.should_try(PART):
        logger.debug("Task %s not enqueued: the broker is in degraded mode", task.name)
        return False
    try:
        # Nobody waits for the result: no subscription to the result backend, one Redis dependency less.
        task.apply_async(**options, ignore_result=True)
    except BROKER_ERRORS as exc:
        degraded.failed(PART, exc)
        logger.info("Task %s not enqueued: %s", task.name, exc.__class__.__name__)
        return False
    degraded.answered(PART)
    return True
