"""Faults: a worker killed mid-fold, a rolled-back transaction, two folds at once, Redis restarted with tasks queued.

Two folds at once (two beats) is tests/scores/test_services.py
``test_two_incremental_jobs_at_once_on_postgresql_count_nothing_twice``.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import pytest
import redis
import yaml
from django.db import connection, transaction

from evaluations import integrity, services
from evaluations.models import Evaluation, Rectification
from organizations.models import Notice
from scores import services as score_services
from scores.models import ScoreCell
from tests.conftest import database_url_for_worker
from tests.factories import make_brand
from tests.test_redis_down import REDIS_SERVER, free_port

ROOT = Path(__file__).resolve().parent.parent

# A fold in another process that stops for good between writing its cells and committing: the parent kills it.
KILLED_FOLD = """
import os, sys, time
import django
django.setup()
from scores import services
real_advance = services._advance
def advance_then_hang(mark):
    real_advance(mark)
    open(sys.argv[1], "w").close()  # cells written, watermark advanced, nothing committed
    time.sleep(600)
services._advance = advance_then_hang
services.scores_fold_incremental()
"""


def cells() -> list[tuple]:
    return sorted(ScoreCell.objects.values_list("brand_id", "period", "masses_n", "masses_grade_5", "masses_bad_n"))


def submit(brand, overall: int, n: int, prefix: str) -> None:
    for i in range(n):
        signals = integrity.ClientSignals(ip=f"10.{i}.{len(prefix)}.1", device_key=f"{prefix}-{i}")
        services.evaluation_submit(brand=brand, overall=overall, signals=signals, channel="api")


@pytest.mark.django_db(transaction=True)
def test_a_fold_killed_midway_leaves_nothing_and_the_next_fold_equals_a_full_recompute(tree, settings):
    if connection.vendor != "postgresql":
        pytest.skip("a second process on the same database: PostgreSQL only")
    settings.SURGE_MIN_COUNT = 1000
    brand = make_brand(tree["grid"], "KILL1")
    submit(brand, 5, 6, "first")
    score_services.scores_fold_incremental()
    with mock.patch("evaluations.refresh.enqueue", return_value=True):  # queued for the worker, not run here
        submit(brand, 2, 4, "second")
    with tempfile.TemporaryDirectory() as directory:
        ready = Path(directory) / "ready"
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.base", DATABASE_URL=database_url_for_worker())
        env.pop("REDIS_URL", None)
        process = subprocess.Popen([sys.executable, "-c", KILLED_FOLD, str(ready)], cwd=ROOT, env=env)
        try:
            deadline = time.monotonic() + 60
            while not ready.exists():
                assert process.poll() is None, "the fold process ended before it was killed"
                assert time.monotonic() < deadline, "the fold process never reached its commit"
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
    # Nothing of the killed fold was committed: the cell still holds the first six only.
    assert ScoreCell.objects.get(brand=brand, period=0).masses_n == 6
    score_services.scores_fold_incremental()
    folded = cells()
    assert ScoreCell.objects.get(brand=brand, period=0).masses_n == 10
    score_services.scores_recompute_full()
    assert cells() == folded


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_enqueues_nothing(tree, secretary, settings):
    settings.SURGE_MIN_COUNT = 1000
    brand = make_brand(tree["community"], "ROLL1")  # secretary's: its notice is enqueued
    with (
        mock.patch("config.tasks.enqueue", return_value=True) as enqueue,
        mock.patch("evaluations.refresh.enqueue", return_value=True) as refresh_enqueue,
    ):
        with pytest.raises(RuntimeError), transaction.atomic():
            signals = integrity.ClientSignals(ip="10.1.1.1", device_key="rolled-back")
            services.evaluation_submit(brand=brand, overall=1, contact="13800000000", signals=signals, channel="api")
            assert Rectification.objects.count() == 1  # inside the transaction, the rectification exists
            raise RuntimeError("the request failed after the rating")
        assert (enqueue.call_count, refresh_enqueue.call_count) == (0, 0)
        assert (Evaluation.objects.count(), Rectification.objects.count(), Notice.objects.count()) == (0, 0, 0)
        # The same rating committed does enqueue its fold and its notice.
        signals = integrity.ClientSignals(ip="10.1.1.2", device_key="committed")
        services.evaluation_submit(brand=brand, overall=1, contact="13800000000", signals=signals, channel="api")
        assert refresh_enqueue.call_count == 1
        assert enqueue.call_count == 1


def test_compose_keeps_redis_on_disk_so_queued_tasks_survive_a_restart():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert "redis" in [volume.split(":")[0] for volume in compose["services"]["redis"].get("volumes", [])]


def test_redis_restarted_with_tasks_queued_loses_nothing(tmp_path):
    """With append-only persistence (as in compose), tasks waiting in the broker's queue outlive a restart."""
    if not Path(REDIS_SERVER).exists():
        pytest.skip(f"no {REDIS_SERVER} here")
    from config.celery import app as celery_app

    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    command = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path)]
    command += ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]

    def start():
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return process, client
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline and process.poll() is None, "redis-server did not start"
                time.sleep(0.05)

    process, client = start()
    try:
        with celery_app.connection_for_write(url) as conn:
            for _ in range(5):
                celery_app.send_task("scores.fold", connection=conn, queue="celery")
        assert client.llen("celery") == 5
        client.shutdown(nosave=True)  # as a crash or `docker compose restart redis` would
        process.wait(timeout=10)
        process, client = start()
        assert client.llen("celery") == 5
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_notice_whose_task_died_with_a_memory_only_redis_is_sent_by_the_sweep(tree, secretary):
    """Redis without persistence restarts with a notice's task queued: the task is gone, the notice row is not."""
    if not Path(REDIS_SERVER).exists():
        pytest.skip(f"no {REDIS_SERVER} here")
    from django.core import mail

    from config import degraded
    from organizations.tasks import notices_deliver_due
    from tests.test_redis_down import redis_at, redis_server

    degraded.reset()
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    brand = make_brand(tree["community"], "LOST1")
    signals = integrity.ClientSignals(ip="10.3.0.1", device_key="lost-task")
    try:
        with redis_server(port), redis_at(url):
            services.evaluation_submit(brand=brand, overall=1, signals=signals, channel="api")
            queued = [json.loads(m)["headers"]["task"] for m in redis.Redis(port=port).lrange("celery", 0, -1)]
            assert "organizations.notice_deliver" in queued  # no worker has taken it yet
        with redis_server(port), redis_at(url):
            assert redis.Redis(port=port).llen("celery") == 0  # the restart lost it
            notice = Notice.objects.get()
            assert (notice.status, notice.attempts, mail.outbox) == ("pending", 0, [])
            # The beat's sweep (every minute) finds the row and sends it, once.
            assert notices_deliver_due.apply().get() == 1
            assert notices_deliver_due.apply().get() == 0
        assert [m.to for m in mail.outbox] == [[secretary.email]]
        notice.refresh_from_db()
        assert (notice.status, notice.attempts) == ("sent", 1)
    finally:
        degraded.reset()
