"""A real Celery worker through Redis (the PostgreSQL + Redis pass of CI)."""

import pytest

from config.celery import ping


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_task_completes_on_a_real_worker(celery_worker_process):
    result = ping.delay()
    assert result.get(timeout=30) == "pong"
    assert result.successful() is True
