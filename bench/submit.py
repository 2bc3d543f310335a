"""Requests per second of the API submit path vs. a bare raw-SQL insert view, same server, same run.

Usage: DATABASE_URL=postgres://... [REDIS_URL=redis://...] python bench/submit.py [--seconds 10] [--threads 8]

Starts gunicorn on 127.0.0.1:8103 with bench.settings (throttles relaxed via
environment), prepares one public brand, then drives each endpoint for a fixed
time with a threaded keep-alive HTTP client (standard library only), prints
both rates and their ratio (goal ≥ 0.5), and stops gunicorn.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST, PORT = "127.0.0.1", 8103
RELAXED = {
    "EVALUATION_THROTTLE_IP_BRAND": "100000000",
    "EVALUATION_THROTTLE_IP": "100000000",
    "EVALUATION_POW_SOFT_LIMIT": "100000000",
    "EVALUATION_BURST_LIMIT": "100000000",
}


def ensure_database(database_url: str) -> None:
    """Create the benchmark database if it does not exist yet."""
    from urllib.parse import urlparse

    import psycopg2

    url = urlparse(database_url)
    name = url.path.lstrip("/")
    conn = psycopg2.connect(
        dbname="postgres",
        user=url.username or "postgres",
        password=url.password,
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def prepare(env: dict) -> None:
    """Migrate, create the baseline table and one public brand (idempotent)."""
    ensure_database(env["DATABASE_URL"])
    code = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "from django.db import connection\n"
        "call_command('migrate', verbosity=0)\n"
        "with connection.cursor() as c:\n"
        "    c.execute('CREATE TABLE IF NOT EXISTS bench_raw_row (id bigserial primary key, device varchar(64),"
        " overall smallint, created_at timestamptz)')\n"
        "from organizations.models import Organization\n"
        "from brands.models import Brand\n"
        "org = Organization.objects.filter(name='基准测试党支部').first() or Organization.objects.add_root(dict("
        "name='基准测试党支部', level='branch', domain='community', region='bench'))\n"
        "Brand.objects.get_or_create(code='bench01', defaults=dict(organization=org, name='基准测试品牌',"
        " status='cultivating'))\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


def wait_until_up(deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, PORT, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def drive(path: str, seconds: float, threads: int) -> tuple[float, int, dict[int, int]]:
    """POST JSON ratings to ``path`` from ``threads`` clients for ``seconds``; returns (req/s, total, statuses)."""
    run = uuid.uuid4().hex[:8]
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    counts = [0] * threads

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
        local: dict[int, int] = {}
        i = 0
        while time.monotonic() < stop_at:
            body = json.dumps({"overall": 3 + (i % 3), "rater_group": "masses", "comment": ""})
            headers = {"Content-Type": "application/json", "X-Device-Id": f"{run}-{n}-{i}"}
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                local[response.status] = local.get(response.status, 0) + 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
            except (OSError, http.client.HTTPException):
                local[0] = local.get(0, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
            i += 1
        counts[n] = i
        with lock:
            for key, value in local.items():
                statuses[key] = statuses.get(key, 0) + value

    started = time.monotonic()
    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    total = sum(counts)
    return total / elapsed, total, statuses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0, help="per endpoint, over all rounds")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)  # gunicorn's advice
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        print("bench/submit.py needs DATABASE_URL pointing at PostgreSQL", file=sys.stderr)
        return 2
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings", DEBUG="false", **RELAXED)
    prepare(env)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    server = subprocess.Popen(
        [
            gunicorn,
            "config.wsgi:application",
            f"--bind={HOST}:{PORT}",
            f"--workers={args.workers}",
            "--worker-class=sync",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_until_up(time.monotonic() + 30)
        drive("/bench/raw/", 1.0, 2)  # warm up both paths and the connections
        drive("/api/v1/brands/bench01/evaluations/", 1.0, 2)
        # Alternate short rounds so that load from other processes on the machine hits both alike.
        totals = {"raw": [0, 0.0, {}], "api": [0, 0.0, {}]}
        paths = {"raw": "/bench/raw/", "api": "/api/v1/brands/bench01/evaluations/"}
        for _ in range(args.rounds):
            for name, path in paths.items():
                rate, count, statuses = drive(path, args.seconds / args.rounds, args.threads)
                totals[name][0] += count
                totals[name][1] += count / rate
                for status_code, n in statuses.items():
                    totals[name][2][status_code] = totals[name][2].get(status_code, 0) + n
        raw_total, raw_elapsed, raw_statuses = totals["raw"]
        api_total, api_elapsed, api_statuses = totals["api"]
        raw_rate, api_rate = raw_total / raw_elapsed, api_total / api_elapsed
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"bare raw-SQL insert view : {raw_rate:8.1f} req/s  ({raw_total} requests, statuses {raw_statuses})")
    print(f"API submit path          : {api_rate:8.1f} req/s  ({api_total} requests, statuses {api_statuses})")
    ratio = api_rate / raw_rate if raw_rate else 0.0
    print(f"ratio submit/raw         : {ratio:8.2f}  (goal >= 0.5)")
    return 0 if set(api_statuses) == {201} and set(raw_statuses) == {201} else 1


if __name__ == "__main__":
    sys.exit(main())
