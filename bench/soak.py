"""`make soak`: the production shape under steady load for a bounded time. Prints figures; not a test.

Creates the PostgreSQL database `bench_soak` (a small tree: 市委 → 5 区委 → 6 党委 each, and 300 public
brands; dropped at the end unless --keep), flushes Redis db 10, then starts on 127.0.0.1:

  web     gunicorn on :8109, 2 worker processes; gthread with 16 threads each by default, because no
          buffering proxy stands in front here and a sync worker waits on each accepted connection until
          its request arrives (wrk's paced connections wait most of the time); --worker-class sync for the
          production class. The first 10-minute run (README, "Soak") hung the gthread workers: see there.
  workers two `celery -A config worker --concurrency 1` processes (each a main process and one pool child)
  beat    `celery -A config beat` (the fold every 30 s, beside the debounced fold after ratings)

and drives them for --minutes (10) in one-minute wrk runs, three at a time:

  ratings 100/s POST /api/v1/brands/<code>/evaluations/ {"overall": n} over every brand, each from a
          random address in 10.0.0.0/8 sent as X-Forwarded-For (the server trusts one proxy:
          TRUSTED_PROXY_COUNT=1), since the app's throttles count per client address; no device id, so one
          address is one device. Only 201 is right here.
  hot     1/s from one address to one brand: past EVALUATION_THROTTLE_IP_BRAND (120 an hour) the server
          answers 429 — the intended 429s; 201 or 429 are right here.
  reads   5/s GET /rankings/, /b/<code>/, /api/v1/rankings/?period=all in turn. Only 200 is right.

Pacing is wrk's Lua delay() (bench/wrk/soak_common.lua; Debian's wrk has no -R). The surge rule is
set out of reach (SURGE_MIN_DAILY) so that ratings count: a fresh database has no history, and 300
brands at 100/s would otherwise be held as surges from their sixth rating on, leaving the fold little
to do. Every 10 s it samples the RSS (VmRSS) of every process and the rankings lag: the newest counted
rating's created_at minus the created_at of the rating the fold's watermark names (0 when the
watermark has passed it). At the end, after the load stops and the next fold, it stops the processes,
folds once more, compares the cells with a full recompute, and counts the stored ratings against
the 201 answers. Goals: no errors but the intended 429s; no steady memory growth (slope over the last
half ≤ 1 MB/min per process); the rankings never more than 60 s behind.

Before the load, a 15 s burst of GET /healthz (a database query and a Redis ping) on four connections per
thread starts every thread of both web workers, each with its database connection: a gthread worker starts
a thread only when none is idle, so under the paced load its threads (and its memory) would otherwise
come one burst at a time through the whole run, which reads as growth. The burst stores nothing.

    make soak
    make soak SOAK_ARGS="--minutes 2 --keep"
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_soak"
REDIS_URL = "redis://127.0.0.1:6379/10"
HOST, PORT = "127.0.0.1", 8109
WRK_DIR = ROOT / "bench" / "wrk"
CODE_PREFIX = "SK"
HOT_ADDRESS = "203.0.113.7"
SAMPLE_SECONDS = 10
THREADS = 16
CONNECTIONS = {"ratings": 24, "hot": 1, "reads": 2}
GOAL_LAG_SECONDS = 60.0
GOAL_SLOPE_MB_PER_MIN = 1.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--rate", type=float, default=100.0, help="ratings per second")
    parser.add_argument("--hot-rate", type=float, default=1.0, help="ratings per second from the one hot address")
    parser.add_argument("--read-rate", type=float, default=5.0, help="page reads per second")
    parser.add_argument("--brands", type=int, default=300)
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


# --- the data ------------------------------------------------------------------------------------------------


def load_tree_and_brands(brand_count: int) -> None:
    """市委 → 5 区委 → 6 党委 each; the brands spread over the committees, all public (named)."""
    from brands.models import Brand
    from organizations.models import Organization

    city = Organization.objects.add_root(dict(name="市委", level="city", domain="organ"))
    committees = []
    domains = ["organ", "community", "rural", "soe", "private", "school", "social"]
    for d in range(5):
        district = city.add_child(name=f"区委{d}", level="district", domain="organ", region=f"区{d}")
        for c in range(6):
            committees.append(
                district.add_child(
                    name=f"党委{d}-{c}", level="committee", domain=domains[(d * 6 + c) % 7], region=f"区{d}"
                )
            )
    Brand.objects.bulk_create(
        Brand(
            organization=committees[i % len(committees)],
            code=f"{CODE_PREFIX}{i:04d}",
            name=f"品牌{i}",
            status=Brand.Status.NAMED,
        )
        for i in range(brand_count)
    )


# --- the processes -------------------------------------------------------------------------------------------


def server_environment(url: str, module: str, directory: Path) -> dict:
    return dict(
        os.environ,
        DATABASE_URL=url,
        REDIS_URL=REDIS_URL,
        DEBUG="false",
        ALLOWED_HOSTS=HOST,
        SECRET_KEY="bench-soak",
        DJANGO_SETTINGS_MODULE=module,
        LOG_LEVEL="WARNING",
        TRUSTED_PROXY_COUNT="1",
        SURGE_MIN_DAILY="1000000",
        PYTHONPATH=os.pathsep.join([str(directory), str(ROOT)]),
    )


class Processes:
    """The started processes by role, their logs in the temporary directory; stop() ends each by its id."""

    def __init__(self, directory: Path, env: dict):
        self.directory, self.env = directory, env
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, role: str, command: list[str]) -> subprocess.Popen:
        log = open(self.directory / f"{role}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.started[role] = process
        return process

    def log(self, role: str) -> str:
        return (self.directory / f"{role}.log").read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM each started process, SIGKILL what is left after 30 s, then any child still alive (by its id)."""
        leftovers = [child for process in self.started.values() for child in children(process.pid)]
        for process in self.started.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.started.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pid in leftovers:
            try:  # still ours (an orphaned gunicorn worker or pool child), not a reused id
                if "config" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def start_all(processes: Processes, worker_class: str) -> None:
    bin_dir = Path(sys.executable).parent
    web = [str(bin_dir / "gunicorn"), "config.wsgi:application", f"--bind={HOST}:{PORT}", "--workers=2"]
    web += [f"--worker-class={worker_class}", "--log-level=warning", "--graceful-timeout=10"]
    if worker_class == "gthread":
        # A thread waits on a connection that is open but has not sent yet (wrk's paced connections): enough
        # threads that every open connection has one, whichever worker accepted it.
        web.append(f"--threads={THREADS}")
    processes.start("web", web)
    celery = str(bin_dir / "celery")
    for n in (1, 2):
        processes.start(
            f"worker{n}",
            [celery, "-A", "config", "worker", "--concurrency=1", f"--hostname=soak{n}@%h", "--loglevel=INFO"],
        )
    schedule = str(processes.directory / "celerybeat-schedule")
    processes.start("beat", [celery, "-A", "config", "beat", "--loglevel=INFO", "--schedule", schedule])


def wait_until_ready(processes: Processes, deadline: float) -> None:
    """The web answers /healthz and both workers have logged that they are ready."""
    web_up = False
    while time.monotonic() < deadline:
        for role, process in processes.started.items():
            if process.poll() is not None:
                raise RuntimeError(f"{role} exited with {process.returncode}:\n{processes.log(role)[-2000:]}")
        if not web_up:
            try:
                connection = http.client.HTTPConnection(HOST, PORT, timeout=2)
                connection.request("GET", "/healthz")
                web_up = connection.getresponse().status == 200
                connection.close()
            except OSError:
                pass
        if web_up and all(" ready." in processes.log(f"worker{n}") for n in (1, 2)):
            return
        time.sleep(0.5)
    raise RuntimeError("the web or the Celery workers did not start")


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def process_roles(processes: Processes) -> dict[str, int]:
    """Every process to watch, by a stable label: masters and their children (gunicorn workers, pool children)."""
    roles = {}
    web = processes.started["web"].pid
    roles["gunicorn master"] = web
    for n, pid in enumerate(sorted(children(web)), start=1):
        roles[f"gunicorn worker {n}"] = pid
    for n in (1, 2):
        main = processes.started[f"worker{n}"].pid
        roles[f"celery worker {n}"] = main
        for m, pid in enumerate(sorted(children(main)), start=1):
            roles[f"celery worker {n} pool child {m}"] = pid
    roles["celery beat"] = processes.started["beat"].pid
    return roles


# --- sampling ------------------------------------------------------------------------------------------------


LAG_SQL = """
SELECT
  (SELECT max(id) FROM evaluations_evaluation WHERE state = 'counted'),
  (SELECT created_at FROM evaluations_evaluation WHERE state = 'counted' ORDER BY id DESC LIMIT 1),
  w.last_evaluation_id,
  (SELECT created_at FROM evaluations_evaluation WHERE id = w.last_evaluation_id),
  w.updated_at,
  (SELECT count(*) FROM evaluations_evaluation)
FROM scores_scorewatermark w
"""


def lag_seconds(row) -> float:
    newest_id, newest_at, mark_id, mark_at, mark_updated, _count = row
    if newest_id is None or (mark_id or 0) >= newest_id:
        return 0.0
    reference = mark_at or mark_updated
    if reference is None:  # no fold yet: behind by everything
        return float("inf")
    return max(0.0, (newest_at - reference).total_seconds())


class Sampler(threading.Thread):
    """Every SAMPLE_SECONDS: the RSS of every watched process and the rankings lag (its own connection)."""

    def __init__(self, url: str, processes: Processes):
        super().__init__(daemon=True)
        self.url, self.processes = url, processes
        self.stop_event = threading.Event()
        self.rss: dict[str, list[tuple[float, int, int]]] = {}  # label → [(seconds, pid, kB)]
        self.lags: list[tuple[float, float]] = []
        self.errors: list[str] = []
        self.started_at = time.monotonic()

    def sample(self, cursor) -> None:
        now = time.monotonic() - self.started_at
        for label, pid in process_roles(self.processes).items():
            kb = rss_kb(pid)
            if kb is not None:
                self.rss.setdefault(label, []).append((now, pid, kb))
        cursor.execute(LAG_SQL)
        row = cursor.fetchone()
        if row is not None:
            self.lags.append((now, lag_seconds(row)))

    def run(self) -> None:
        import psycopg2

        connection = psycopg2.connect(self.url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                while not self.stop_event.is_set():
                    try:
                        self.sample(cursor)
                    except Exception as error:  # noqa: BLE001 (a soak reports, it does not stop)
                        self.errors.append(repr(error))
                    self.stop_event.wait(SAMPLE_SECONDS)
        finally:
            connection.close()


# --- load ----------------------------------------------------------------------------------------------------


class Stream:
    """One kind of load, driven by one wrk per minute; the runs' figures merged."""

    def __init__(self, name: str, script: str, rate: float, connections: int, extra: list[str], allowed: set[int]):
        self.name, self.script, self.rate, self.connections = name, script, rate, connections
        self.extra, self.allowed = extra, allowed
        self.statuses: dict[int, int] = {}
        self.socket_errors = 0
        self.weighted: list[tuple[float, float]] = []  # (µs, weight): each run's quantiles
        self.max_us = 0
        self.seconds = 0.0

    def command(self, seconds: int) -> list[str]:
        threads = 1 if self.rate < 10 else 2
        return [
            "wrk",
            f"-t{threads}",
            f"-c{self.connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(WRK_DIR / self.script),
            f"http://{HOST}:{PORT}",
            "--",
            str(self.rate),
            str(threads),
            *self.extra,
        ]

    def absorb(self, output: str, seconds: float) -> dict:
        line = next((line for line in output.splitlines() if line.startswith("SOAK ")), None)
        if line is None:
            raise RuntimeError(f"could not read wrk's output ({self.name}):\n{output[-2000:]}")
        run = json.loads(line[5:])
        statuses = {int(k): v for k, v in run["statuses"].items()}
        for code, n in statuses.items():
            self.statuses[code] = self.statuses.get(code, 0) + n
        socket_errors = sum(run["socket_errors"].values())
        self.socket_errors += socket_errors
        answered = sum(statuses.values())
        if answered:
            weight = answered / len(run["quantiles_us"])
            self.weighted.extend((float(q), weight) for q in run["quantiles_us"])
        self.max_us = max(self.max_us, run["max_us"])
        self.seconds += seconds
        quantiles = run["quantiles_us"]
        return {
            "statuses": statuses,
            "errors": socket_errors + sum(n for code, n in statuses.items() if code not in self.allowed),
            "rate": answered / seconds if seconds else 0.0,
            "p50": quantiles[len(quantiles) // 2] / 1000 if answered else 0.0,
            "p99": quantiles[int(len(quantiles) * 0.99)] / 1000 if answered else 0.0,
        }

    def percentile(self, p: float) -> float:
        """ms, from the runs' quantiles weighted by their answers."""
        if not self.weighted:
            return 0.0
        ordered = sorted(self.weighted)
        total = sum(w for _, w in ordered)
        running = 0.0
        for value, weight in ordered:
            running += weight
            if running >= total * p / 100:
                return value / 1000
        return ordered[-1][0] / 1000

    @property
    def unanswered(self) -> int:
        """Requests the pacing asked for that got no answer in time (wrk does not count a hung server's)."""
        return max(0, int(self.rate * self.seconds * 0.9) - self.answered)

    @property
    def errors(self) -> int:
        wrong = sum(n for code, n in self.statuses.items() if code not in self.allowed)
        return self.socket_errors + wrong + self.unanswered

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())


def warm_up() -> None:
    """Start every web thread (see the module's docstring); the burst's answers are only counted."""
    command = ["wrk", "-t2", f"-c{4 * THREADS}", "-d15s", "--timeout", "10s", f"http://{HOST}:{PORT}/healthz"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    requests = re.search(r"(\d+) requests in", output)
    print(f"  warm-up: {requests.group(1) if requests else '?'} GET /healthz on {4 * THREADS} connections", flush=True)


def drive(streams: list[Stream], minutes: int, sampler: Sampler) -> None:
    env = dict(os.environ, SOAK_WRK_DIR=str(WRK_DIR))
    for minute in range(1, minutes + 1):
        started = time.monotonic()
        running = [
            (stream, subprocess.Popen(stream.command(60), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
            for stream in streams
        ]
        outputs = [(stream, process.communicate()[0].decode(errors="replace")) for stream, process in running]
        elapsed = time.monotonic() - started
        parts = []
        for stream, output in outputs:
            run = stream.absorb(output, elapsed)
            statuses = " ".join(f"{code}:{n}" for code, n in sorted(run["statuses"].items()))
            parts.append(
                f"{stream.name} {run['rate']:.1f}/s [{statuses}] err {run['errors']} "
                f"p50 {run['p50']:.0f} p99 {run['p99']:.0f} ms"
            )
        rss = {label: series[-1][2] / 1024 for label, series in sampler.rss.items() if series}
        lag = sampler.lags[-1][1] if sampler.lags else float("nan")
        load = os.getloadavg()[0]
        print(
            f"  min {minute:2d}: "
            + " | ".join(parts)
            + f" | RSS web {sum(v for k, v in rss.items() if 'gunicorn' in k):.0f}"
            f" celery {sum(v for k, v in rss.items() if 'celery' in k):.0f} MB | lag {lag:.0f} s | load {load:.1f}",
            flush=True,
        )


# --- the end -------------------------------------------------------------------------------------------------


def wait_for_fold(url: str, timeout: float) -> float:
    """Seconds until the watermark has passed the newest rating (beat folds every 30 s)."""
    import psycopg2

    started = time.monotonic()
    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            while time.monotonic() - started < timeout:
                cursor.execute(LAG_SQL)
                if lag_seconds(cursor.fetchone()) == 0.0:
                    return time.monotonic() - started
                time.sleep(1)
    finally:
        connection.close()
    return float("inf")


def cells() -> dict[tuple[int, int], tuple]:
    """Every score cell by (brand, period), without all-zero rows (a fold may keep one, a recompute not)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM scores_scorecell")
        names = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    keys = ("brand_id", "period")
    values = sorted(name for name in names if name not in keys)
    out = {}
    for row in rows:
        record = dict(zip(names, row, strict=True))
        measured = tuple(record[name] for name in values)
        if any(measured):
            out[(record["brand_id"], record["period"])] = measured
    return out


def final_checks() -> dict:
    from django.db import connection

    from scores import services

    last_fold = services.scores_fold_incremental()
    folded = cells()
    services.scores_recompute_full()
    recomputed = cells()
    differing = sum(1 for key in folded.keys() | recomputed.keys() if folded.get(key) != recomputed.get(key))
    with connection.cursor() as cursor:
        cursor.execute("SELECT state, count(*) FROM evaluations_evaluation GROUP BY state ORDER BY state")
        states = dict(cursor.fetchall())
    return {"last_fold": last_fold, "cells": len(folded), "differing": differing, "states": states}


def slope_mb_per_min(series: list[tuple[float, int, int]]) -> float:
    """Least-squares slope of RSS over the last half of the samples."""
    half = series[len(series) // 2 :]
    if len(half) < 3:
        return 0.0
    xs = [t / 60 for t, _, _ in half]
    ys = [kb / 1024 for _, _, kb in half]
    return statistics.linear_regression(xs, ys).slope


def log_notes(processes: Processes) -> str:
    """What the processes' logs say went wrong: tracebacks and Redis degraded-mode entries, per process."""
    notes = []
    for role in processes.started:
        text = processes.log(role)
        tracebacks, degraded = text.count("Traceback"), text.count("degraded mode")
        if tracebacks or degraded:
            notes.append(f"{role}: {tracebacks} tracebacks, {degraded} Redis degraded-mode entries")
    return "; ".join(notes) or "no tracebacks, no Redis degraded mode"


def report(args, streams: list[Stream], sampler: Sampler, fold_wait: float, checks: dict, load: tuple) -> bool:
    print("\nmemory (VmRSS, MB; sampled every 10 s):")
    print("| process | first | last | max | slope, last half (MB/min) | restarts |")
    print("|---|---:|---:|---:|---:|---:|")
    worst_slope = 0.0
    for label, series in sampler.rss.items():
        pids = {pid for _, pid, _ in series}
        slope = slope_mb_per_min(series)
        worst_slope = max(worst_slope, slope)
        first, last, top = series[0][2] / 1024, series[-1][2] / 1024, max(kb for _, _, kb in series) / 1024
        print(f"| {label} | {first:.1f} | {last:.1f} | {top:.1f} | {slope:+.2f} | {len(pids) - 1} |")
    lags = [lag for _, lag in sampler.lags]
    lag_max = max(lags) if lags else float("inf")
    lag_p95 = statistics.quantiles(lags, n=20)[-1] if len(lags) >= 2 else lag_max
    ratings = [s for s in streams if s.name in ("ratings", "hot")]
    created = sum(s.statuses.get(201, 0) for s in ratings)
    stored = sum(checks["states"].values())
    errors = sum(s.errors for s in streams)
    memory_ok = worst_slope <= GOAL_SLOPE_MB_PER_MIN
    lag_ok = lag_max <= GOAL_LAG_SECONDS
    print(f"\n| soak ({args.minutes} min, {args.brands} brands, gunicorn {args.worker_class}) | figure | goal | met |")
    print("|---|---|---|---|")
    for s in streams:
        statuses = ", ".join(f"{code}: {n:,}" for code, n in sorted(s.statuses.items()))
        allowed = "/".join(str(code) for code in sorted(s.allowed))
        print(
            f"| {s.name} ({s.rate:g}/s asked): {s.answered / s.seconds:.1f}/s; {statuses}; socket errors "
            f"{s.socket_errors} | p50 {s.percentile(50):.1f} ms, p99 {s.percentile(99):.1f} ms, "
            f"max {s.max_us / 1000:.0f} ms | only {allowed} | {'yes' if s.errors == 0 else f'no ({s.errors})'} |"
        )
    print(
        "| errors (all but 2xx and the hot address's 429s, socket errors, answers short of 90% of the rate) |"
        f" {errors} | 0 | {'yes' if errors == 0 else 'no'} |"
    )
    print(
        f"| memory: steepest RSS slope over the last half, any process | {worst_slope:+.2f} MB/min | "
        f"≤ {GOAL_SLOPE_MB_PER_MIN:g} MB/min | {'yes' if memory_ok else 'no'} |"
    )
    print(
        f"| rankings lag (every 10 s, {len(lags)} samples) | max {lag_max:.0f} s, p95 {lag_p95:.0f} s | "
        f"≤ {GOAL_LAG_SECONDS:.0f} s | {'yes' if lag_ok else 'no'} |"
    )
    print(f"| last fold after the load stopped | {fold_wait:.0f} s later | | |")
    cells_ok = checks["differing"] == 0
    print(
        f"| cells after the last fold vs. a full recompute | {checks['cells']:,} cells, {checks['differing']} differ"
        f" (in-process fold after the stop wrote {checks['last_fold'].get('cells', '?')}) | equal | "
        f"{'yes' if cells_ok else 'no'} |"
    )
    # Each one-minute wrk run ends with up to one request in flight per connection: the server may store
    # those ratings while wrk never counts their answers. So no answered rating may be missing, and at most
    # that many more may be stored.
    in_flight = args.minutes * (CONNECTIONS["ratings"] + CONNECTIONS["hot"])
    stored_ok = created <= stored <= created + in_flight
    states = ", ".join(f"{state} {n:,}" for state, n in checks["states"].items())
    print(
        f"| ratings stored vs. 201 answers | {stored:,} rows ({states}) vs. {created:,} | every answer stored, "
        f"at most {in_flight} in flight more | {'yes' if stored_ok else 'no'} |"
    )
    print(
        f"\n(load average, 1 min: {load[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end;"
        " 2 cores shared with other work)"
    )
    if sampler.errors:
        print(f"sampler errors: {sampler.errors[:5]}")
    return errors == 0 and memory_ok and lag_ok and cells_ok and stored_ok


def stop_on_signal(signum, _frame) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # so that `finally` stops the processes and drops the database


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    url = os.environ.get("BENCH_SOAK_DATABASE_URL", DEFAULT_URL)
    directory = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    from bench.dashboard import collectstatic, settings_module
    from bench.run import drop_database, recreate_database

    module = settings_module(directory)
    sys.path.insert(0, str(directory))
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # this process (loader, final checks): eager tasks, local cache
    os.environ["DJANGO_SETTINGS_MODULE"] = module
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    print(f"soak: {args.minutes} min; database {url}; Redis {REDIS_URL}; web http://{HOST}:{PORT}", flush=True)

    import redis

    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    recreate_database(url)
    env = server_environment(url, module, directory)
    processes = Processes(directory, env)
    sampler = Sampler(url, processes)
    ok = False
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        load_tree_and_brands(args.brands)
        collectstatic(env)
        start_all(processes, args.worker_class)
        wait_until_ready(processes, time.monotonic() + 90)
        roles = process_roles(processes)
        print(
            f"  started: {', '.join(f'{label} ({pid})' for label, pid in roles.items())}; logs in {directory}",
            flush=True,
        )
        streams = [
            Stream(
                "ratings",
                "soak_ratings.lua",
                args.rate,
                CONNECTIONS["ratings"],
                [str(args.brands), CODE_PREFIX, "spread"],
                {201},
            ),
            Stream(
                "hot",
                "soak_ratings.lua",
                args.hot_rate,
                CONNECTIONS["hot"],
                [str(args.brands), CODE_PREFIX, HOT_ADDRESS],
                {201, 429},
            ),
            Stream(
                "reads", "soak_reads.lua", args.read_rate, CONNECTIONS["reads"], [str(args.brands), CODE_PREFIX], {200}
            ),
        ]
        warm_up()
        load = os.getloadavg()
        sampler.start()
        drive(streams, args.minutes, sampler)
        fold_wait = wait_for_fold(url, 120)
        sampler.stop_event.set()
        sampler.join(timeout=30)
        processes.stop()
        checks = final_checks()
        print(f"\nlogs ({directory}): {log_notes(processes)}")
        ok = report(args, streams, sampler, fold_wait, checks, load)
    finally:
        sampler.stop_event.set()
        processes.stop()
        from django.db import connections

        connections.close_all()
        broker.flushdb()
        if not args.keep:
            drop_database(url)
        if ok and not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
