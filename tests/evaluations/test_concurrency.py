"""One counted rating per device per brand per day, under concurrency (PostgreSQL only)."""

import threading

import pytest
from django.db import connection, connections
from django.test import override_settings

from evaluations import integrity, services
from evaluations.models import Evaluation

RELAXED = dict(
    EVALUATION_THROTTLE_IP_BRAND=10_000,
    EVALUATION_THROTTLE_IP=10_000,
    EVALUATION_POW_SOFT_LIMIT=10_000,
    EVALUATION_BURST_LIMIT=10_000,
)


@pytest.mark.django_db(transaction=True)
@override_settings(**RELAXED)
def test_50_concurrent_identical_submissions_from_one_device_count_exactly_one(brand):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serializes every writer, so there is no race to test")
    threads_count = 50
    barrier = threading.Barrier(threads_count)
    results: list = []
    failures: list = []

    def worker():
        try:
            barrier.wait(timeout=30)
            signals = integrity.ClientSignals(ip="10.0.0.1", device_key="one-phone", user_agent="pytest")
            result = services.evaluation_submit(brand=brand, overall=5, signals=signals, channel="api")
            results.append(result.already_rated)
        except Exception as exc:  # reported below: any error fails the test
            failures.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(results) == [False] + [True] * (threads_count - 1)
    assert Evaluation.objects.count() == threads_count
    assert Evaluation.objects.filter(state="counted").count() == 1
    assert Evaluation.objects.filter(state="excluded", state_reason=services.REPEAT_REASON).count() == 49
