"""Degraded mode: with Redis stopped or hung the site still takes ratings and serves its pages; once Redis
is back the folds catch up, each rating counted once, and the notices whose task was lost go out.

Here the cache (`config.cache.FailOpenRedisCache`) and the Celery broker point at a port of our own: first
nothing listens there, then a real ``redis-server`` does, or a socket that accepts and never answers.
Celery sends for real (not eagerly) in these tests, as the web processes do in production.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core import mail, signing
from django.core.cache import caches
from django.test import Client, override_settings
from django.utils import timezone

from config import degraded
from config.celery import app as celery_app
from evaluations import integrity, services
from evaluations.models import Evaluation, Rectification
from organizations.models import Notice
from organizations.tasks import notices_deliver_due
from scores.models import COUNT_COLUMNS, ScoreCell
from scores.services import scores_recompute_full
from tests.factories import make_brand

ROOT = Path(__file__).resolve().parent.parent
REDIS_SERVER = "/usr/bin/redis-server"
BRAND_CODES = ("RD1", "RD2", "RD3", "RD4")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def redis_at(url: str):
    """The cache and the Celery broker (sending for real, not eagerly) on ``url``, /healthz pinging it."""
    timeouts = {
        "socket_timeout": settings.REDIS_TIMEOUT_SECONDS,
        "socket_connect_timeout": settings.REDIS_TIMEOUT_SECONDS,
    }
    cache_settings = {"default": {"BACKEND": "config.cache.FailOpenRedisCache", "LOCATION": url, "OPTIONS": timeouts}}
    conf = celery_app.conf
    saved = {key: conf[key] for key in ("broker_url", "task_always_eager")}
    saved_pools = celery_app._pool, celery_app.amqp._producer_pool
    celery_app._pool = celery_app.amqp._producer_pool = None
    # The result backend stays as it is: `config.tasks.enqueue` sends without asking for a result.
    conf.update(broker_url=url, task_always_eager=False)
    try:
        with override_settings(CACHES=cache_settings, REDIS_URL=url, EVALUATION_MIN_FILL_SECONDS=0):
            yield
    finally:
        for pool in (celery_app._pool, celery_app.amqp._producer_pool):
            if pool is not None:
                pool.force_close_all()
        conf.update(saved)
        celery_app._pool, celery_app.amqp._producer_pool = saved_pools


@contextmanager
def redis_server(port: int):
    """A real, empty, memory-only Redis on 127.0.0.1:``port``, stopped afterwards."""
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {port}") from None
                time.sleep(0.05)
        client.close()
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def hung_server():
    """A port that accepts connections and never answers (a Redis frozen, or a half-open network)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:  # timeout, or the listener closed
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        for connection in accepted:
            connection.close()


@pytest.fixture(autouse=True)
def _no_trouble_left():
    """Degraded mode is process-wide state: no test starts or leaves it."""
    degraded.reset()
    yield
    degraded.reset()


@pytest.fixture
def brands(tree, secretary):
    return [make_brand(tree["community"], code) for code in BRAND_CODES]


def form_started() -> str:
    return signing.dumps(time.time() - 30, salt=integrity.FORM_TOKEN_SALT)


def rate_twenty(brands) -> list[int]:
    """Twenty citizens on twenty networks: even ones through the API, odd ones through the form; two bad."""
    statuses = []
    for i in range(20):
        brand, ip = brands[i % len(brands)], f"10.{i}.0.1"
        grade = 1 if i in (6, 7) else 3 + i % 3
        contact = "13800001111" if grade == 1 else ""
        if i % 2 == 0:
            response = Client(REMOTE_ADDR=ip).post(
                f"/api/v1/brands/{brand.code}/evaluations/",
                json.dumps({"overall": grade, "contact": contact}),
                content_type="application/json",
            )
        else:
            citizen = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=f"phone-{i}")
            assert citizen.get(f"/b/{brand.code}/rate/").status_code == 200
            response = citizen.post(
                f"/b/{brand.code}/rate/", {"overall": str(grade), "contact": contact, "started": form_started()}
            )
        statuses.append(response.status_code)
    return statuses


def rate_while_redis_is_down(brands, url: str) -> None:
    statuses = rate_twenty(brands)
    assert statuses == [201, 302] * 10
    assert Evaluation.objects.count() == 20
    assert Evaluation.objects.filter(state=Evaluation.State.COUNTED).count() == 20
    assert Rectification.objects.count() == 2
    # The notices are stored with their rectifications; their tasks could not be enqueued, and nothing ran
    # in the request instead.
    assert list(Notice.objects.values_list("status", flat=True)) == ["pending", "pending"] and mail.outbox == []
    # One failed call each, then the back-off: the other requests did not wait for Redis at all.
    trouble = degraded.report()
    assert sorted(trouble) == ["broker", "cache"]
    assert (trouble["cache"]["failures"], trouble["broker"]["failures"]) == (1, 1)
    # Pages that read the cache are served from the fallback.
    public = Client()
    for page in ("/b/RD1/rate/", "/rankings/", "/b/RD1/", "/"):
        assert public.get(page).status_code == 200, page
    health = public.get("/healthz")
    assert health.status_code == 200
    body = health.json()
    assert {key: body[key] for key in ("status", "mode", "database", "redis")} == {
        "status": "degraded",
        "mode": "degraded",
        "database": "ok",
        "redis": "error: ConnectionError",
    }
    assert sorted(body["degraded"]) == ["broker", "cache"]
    assert body["degraded"]["cache"]["error"].startswith("ConnectionError: Error 111 connecting to 127.0.0.1:")


@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_ratings_are_stored_and_pages_served(brands):
    url = f"redis://127.0.0.1:{free_port()}/0"
    with redis_at(url):
        rate_while_redis_is_down(brands, url)


def rankings(period: str) -> dict:
    response = Client().get("/api/v1/rankings/", {"period": period})
    assert response.status_code == 200
    return response.json()


def cells() -> list[tuple]:
    return sorted(ScoreCell.objects.values_list("brand_id", "period", *COUNT_COLUMNS))


@pytest.mark.skipif(not os.path.exists(REDIS_SERVER), reason=f"needs {REDIS_SERVER} to bring Redis back")
@pytest.mark.django_db(transaction=True)
def test_once_redis_is_back_the_fold_catches_up_counting_each_rating_once(brands):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    with redis_at(url):
        rate_while_redis_is_down(brands, url)
        assert ScoreCell.objects.count() == 0  # no fold could be enqueued
        with redis_server(port):
            public = Client()
            # The health check hears Redis answer: the next calls try it without waiting out the back-off.
            assert public.get("/healthz").json()["redis"] == "ok"
            # A rating after the outage: the cache and the broker answer again, degraded mode ends.
            response = Client(REMOTE_ADDR="10.99.0.1").post(
                "/api/v1/brands/RD1/evaluations/", {"overall": 4}, content_type="application/json"
            )
            assert response.status_code == 201
            assert degraded.report() == {}
            assert public.get("/healthz").json() == {"status": "ok", "mode": "normal", "database": "ok", "redis": "ok"}
            # The broker holds that rating's fold request; a worker would run it, as it runs the beat's.
            assert redis.Redis(port=port).llen("celery") == 1
            celery_app.tasks["scores.fold"].apply().get()
            folded = cells()
            month, all_time = timezone.localdate().strftime("%Y-%m"), "all"
            by_fold = {period: rankings(period) for period in (month, all_time)}
            # Nothing lost, nothing counted twice: each brand's n is its counted ratings, in every period.
            counted = {
                code: Evaluation.objects.filter(brand__code=code, state="counted").count() for code in BRAND_CODES
            }
            assert counted == {"RD1": 6, "RD2": 5, "RD3": 5, "RD4": 5}
            for period in (month, all_time):
                assert {row["code"]: row["n"] for row in by_fold[period]["results"]} == counted
            # A second fold finds nothing; a full recompute from the ratings table agrees cell by cell.
            celery_app.tasks["scores.fold"].apply().get()
            assert cells() == folded
            scores_recompute_full()
            assert cells() == folded
            assert {period: rankings(period) for period in (month, all_time)} == by_fold


@pytest.mark.django_db(transaction=True)
def test_notices_whose_task_was_never_enqueued_go_out_once_from_the_sweep(brands, secretary):
    url = f"redis://127.0.0.1:{free_port()}/0"
    with redis_at(url):
        rate_while_redis_is_down(brands, url)
    # The beat's sweep, every minute, sends the pending notices that are due: here, both at once.
    assert notices_deliver_due.apply().get() == 2
    assert sorted(m.to for m in mail.outbox) == [[secretary.email], [secretary.email]]
    assert list(Notice.objects.values_list("kind", "status")) == [("rectification_opened", "sent")] * 2
    assert notices_deliver_due.apply().get() == 0  # nothing twice


@pytest.mark.django_db(transaction=True)
def test_a_due_tomorrow_reminder_written_while_the_broker_was_down_goes_out_from_the_sweep(brands, secretary):
    from evaluations.tasks import remind_due
    from evaluations.workdays import add_working_days

    signals = integrity.ClientSignals(ip="10.7.0.1", device_key="phone-7")
    services.evaluation_submit(brand=brands[0], overall=1, contact="13800001111", signals=signals, channel="api")
    rectification = Rectification.objects.get()
    assert list(Notice.objects.values_list("kind", "status")) == [("rectification_opened", "sent")]  # eager here
    tomorrow = add_working_days(timezone.localdate(), 1)
    Rectification.objects.update(due_on=tomorrow)
    with redis_at(f"redis://127.0.0.1:{free_port()}/0"):
        assert remind_due.apply().get() == 1  # the reminder is written; its task cannot reach the broker
    reminder = Notice.objects.get(kind="rectification_due")
    assert (reminder.status, reminder.key) == ("pending", f"rectification:{rectification.pk}:due:{tomorrow}")
    assert notices_deliver_due.apply().get() == 1
    assert notices_deliver_due.apply().get() == 0
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_with_redis_hung_a_rating_is_stored_within_the_short_timeouts(brands):
    with hung_server() as port, redis_at(f"redis://127.0.0.1:{port}/0"):
        response = Client(REMOTE_ADDR="10.1.0.1").post(
            "/api/v1/brands/RD1/evaluations/", {"overall": 5}, content_type="application/json"
        )
        assert response.status_code == 201
        assert Evaluation.objects.get().receipt == response.json()["receipt"]
        trouble = degraded.report()
        assert trouble["cache"]["error"] == "TimeoutError: Timeout reading from socket"
        assert sorted(trouble) == ["broker", "cache"]
        # The connections that timed out were opened with the configured timeouts.
        pool = caches["default"]._cache._get_connection_pool(write=True)
        assert {key: pool.connection_kwargs[key] for key in ("socket_timeout", "socket_connect_timeout")} == {
            "socket_timeout": settings.REDIS_TIMEOUT_SECONDS,
            "socket_connect_timeout": settings.REDIS_TIMEOUT_SECONDS,
        }


def test_every_redis_client_is_configured_with_the_short_timeout():
    """With REDIS_URL set, the cache, the broker and the result backend all give up after 50 ms."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.base", REDIS_URL="redis://127.0.0.1:6379/3")
    env.pop("REDIS_TIMEOUT_SECONDS", None)
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; from config.celery import app;"
        "c = app.conf; print(json.dumps([s.REDIS_TIMEOUT_SECONDS, s.CACHES['default'], c.broker_connection_timeout,"
        " c.broker_transport_options, c.redis_socket_timeout, c.redis_socket_connect_timeout,"
        " c.task_publish_retry_policy, c.result_backend_transport_options]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    retry_once = {"max_retries": 1, "interval_start": 0, "interval_step": 0, "interval_max": 0}
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [
        0.05,
        {
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": "redis://127.0.0.1:6379/3",
            "OPTIONS": {"socket_timeout": 0.05, "socket_connect_timeout": 0.05},
        },
        0.05,
        {
            "socket_timeout": 0.05,
            "socket_connect_timeout": 0.05,
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0,
        },
        0.05,
        0.05,
        retry_once,
        {"retry_policy": retry_once},
    ]


@pytest.mark.django_db
def test_while_degraded_each_count_of_this_process_stands_for_every_web_process(settings):
    settings.EVALUATION_DEGRADED_PROCESSES = 3
    with redis_at(f"redis://127.0.0.1:{free_port()}/0"):
        counts = [integrity.count_submission(ip="10.5.0.1", brand_code="RD1") for _ in range(3)]
        # This one, plus three for each earlier one: about what three processes would have counted together.
        assert [(c.per_ip, c.per_ip_brand, c.burst) for c in counts] == [(1, 1, 1), (4, 4, 4), (7, 7, 7)]
        assert integrity.submissions_from("10.5.0.1") == 9
        assert integrity.submissions_from("10.6.0.1") == 0


@pytest.mark.skipif(not os.path.exists(REDIS_SERVER), reason=f"needs {REDIS_SERVER} to freeze and resume")
@pytest.mark.django_db
def test_a_deletion_made_while_redis_hung_is_replayed_when_it_answers_again():
    port = free_port()
    with redis_server(port) as process, redis_at(f"redis://127.0.0.1:{port}/0"):
        cache = caches["default"]
        cache.set("brand:RD1", "public")
        process.send_signal(signal.SIGSTOP)  # hung: the port still accepts, nothing answers
        try:
            assert cache.get("brand:RD1") is None  # a timeout: served by the (empty) fallback
            cache.delete("brand:RD1")  # backing off: only the fallback sees it, nothing reaches Redis
            cache.set("only-in-the-fallback", 1)
            assert degraded.report()["cache"]["failures"] == 1
        finally:
            process.send_signal(signal.SIGCONT)
        assert Client().get("/healthz").json()["redis"] == "ok"  # the ping lets the next call try Redis
        assert cache.get("brand:RD1") is None  # the deletion was replayed: no stale "public"
        assert degraded.report() == {}
        assert cache.fallback.get("only-in-the-fallback") is None  # the next outage starts empty
