"""`make bench-submit`: honest load figures for the rating paths and the main pages, driven by wrk.

Not a test. One run, on PostgreSQL and Redis, over gunicorn on 127.0.0.1:8107 (sync workers, 2 × cores + 1
by default, as before; --workers), with every integrity check at the product's defaults:

  data    the database `bench_load` (BENCH_SUBMIT_DATABASE_URL names another; dropped at the end unless
          --keep): bench/dashboard.py's loader with 400 brands and 100k ratings (COPY) over its
          1,111 organizations, then scores_recompute_full(), figures_refresh() and warnings_evaluate();
          Redis db 7 (BENCH_SUBMIT_REDIS_URL), flushed before and after
  B       POST /bench/raw/: a bare Django view inserting one row with raw SQL (bench/urls.py)
  b       POST /api/v1/brands/<code>/evaluations/ (bench/wrk/api.lua)
  c       POST /b/<code>/rate/, the form, with CSRF cookie and token, signed `started` token and signed
          device cookie (bench/wrk/form.lua)
  pages   GET /b/<code>/, /brands/, /rankings/ (anonymous, as citizens see them) and /dashboard/ (the
          reviewer's session cookie) against T, /bench/bare/: a bare template view, a few lines extending
          base.html, no query (anonymous); T with the session cookie is shown too

B, b and c run in alternating rounds (B, b, c at 8 connections, then at 64, round after round) so that
drift and other load on the machine hit all three alike. The throttles stay on: like a proxy, each request
carries its own client address in X-Forwarded-For and the server trusts one proxy (TRUSTED_PROXY_COUNT=1).
The addresses (198.18.0.0/15) and brands turn so that no address, and no network on one brand, reaches a
limit: a 429 is then unintended, as is anything but 2xx/3xx. Pages run one connection at a time (p50 is
then a request's own time, not a queue), T and the four pages in alternating rounds.

Goals: b and c ≥ 0.5 × B requests/s (at 8 and at 64 connections) and p99 ≤ 3 × B's p99 at 64; no status
but 2xx/3xx (and intended 429s) and no socket error; each page's p50 ≤ 2 × T. When py-spy is installed
(`pip install py-spy`; it needs ptrace, e.g. root), each miss is profiled again under the same load
(py-spy record over all workers) and its top frames printed. Exit status 1 on an unexpected status.

    make bench-submit
    make bench-submit SUBMIT_ARGS="--seconds 40 --rounds 8 --keep"
"""

import argparse
import collections
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST, PORT = "127.0.0.1", 8107
BASE = f"http://{HOST}:{PORT}"
WRK_DIR = ROOT / "bench" / "wrk"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_load"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
# Tokens are signed: the loader (which makes the device ids and forms) and the server share this key.
SECRET_KEY = "bench-submit-not-secret"
# Requests per second that the device and form pools are sized for (each rating its own device).
POOL_RATE = 1500

PROJECT_PACKAGES = {"brands", "config", "dashboards", "evaluations", "organizations", "scores"}
RATE_RATIO_GOAL, P99_RATIO_GOAL, PAGE_RATIO_GOAL = 0.5, 3.0, 2.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="per endpoint and connection count, all rounds")
    parser.add_argument("--page-seconds", type=float, default=12, help="per page, all rounds")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--connections", default="8,64", help="comma-separated; the last one is judged on p99")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn sync workers")
    parser.add_argument("--wrk-threads", type=int, default=1, help="one is plenty for a few thousand req/s")
    parser.add_argument("--brands", type=int, default=400)
    parser.add_argument("--ratings", type=int, default=100_000)
    parser.add_argument("--profile-seconds", type=float, default=8, help="py-spy on each miss; 0: none")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--surge-min-daily",
        type=float,
        default=None,
        help="the server's SURGE_MIN_DAILY: the bench rates each brand dozens of times a minute, far above the "
        "history loaded (under one a day), so at the default nearly every rating is held by the surge rule; a "
        "value near the bench's own rate makes the history match it and the ratings count (the common path)",
    )
    return parser.parse_args()


def step(label: str, function):
    started = time.perf_counter()
    result = function()
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)
    return result


# --- data -----------------------------------------------------------------------------------------------


def load(args) -> dict:
    """bench/dashboard.py's data at a modest size, the precompute jobs, and what the runs need from it."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from bench import dashboard
    from brands.models import Brand

    step("migrate", lambda: call_command("migrate", verbosity=0))
    loaded = dashboard.load(argparse.Namespace(brands=args.brands, ratings=args.ratings), timezone.localdate())
    print("precompute jobs:", flush=True)
    dashboard.precompute()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_raw_row (id bigserial PRIMARY KEY, device varchar(100), overall smallint, "
            "created_at timestamptz)"
        )
    public = Brand.objects.filter(status__in=Brand.PUBLIC_STATUSES)
    codes = list(public.order_by("code").values_list("code", flat=True))
    # The brand page of a busy brand: the one with the most ratings.
    busiest = public.annotate(n=Count("evaluations")).order_by("-n", "code").values_list("code", flat=True)[0]
    return {"reviewer": loaded["reviewer"], "codes": codes, "page_brand": busiest}


def write_pools(directory: Path, size: int) -> dict[str, Path]:
    """Per-request material the server signed for real clients, made with the app's own functions.

    devices.txt: API device ids (``integrity.device_token``, what GET on the endpoint hands out).
    forms.txt:   a form as its GET leaves it in the browser: the signed device cookie (set the way the view
                 sets it) and the signed ``started`` token (``integrity.form_token``), URL-encoded.
    """
    from django.http import HttpResponse

    from evaluations import integrity

    devices = directory / "devices.txt"
    devices.write_text("".join(integrity.device_token() + "\n" for _ in range(size)))
    response = HttpResponse()
    lines = []
    for _ in range(size):
        response.set_signed_cookie(
            integrity.DEVICE_COOKIE, integrity.new_device_key(), salt=integrity.DEVICE_COOKIE_SALT
        )
        cookie = response.cookies[integrity.DEVICE_COOKIE].value
        lines.append(f"{cookie}\t{quote(integrity.form_token(), safe='')}\n")
    forms = directory / "forms.txt"
    forms.write_text("".join(lines))
    return {"devices": devices, "forms": forms}


def page_queries(reviewer, page_brand: str) -> dict[str, int]:
    """Queries of one (repeated) request per page, in-process; the server's cache is Redis, this one local."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    anonymous, logged_in = Client(), Client()
    logged_in.force_login(reviewer)
    counts = {}
    for label, path, with_session in page_list(page_brand):
        client = logged_in if with_session else anonymous
        for _attempt in range(2):  # the second one, with the caches warm
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code} in-process")
        counts[label] = len(queries)
    return counts


def page_list(page_brand: str) -> list[tuple[str, str, bool]]:
    """(label, path, with the reviewer's session): T first, then T with a session, then the pages."""
    return [
        ("T", "/bench/bare/", False),
        ("T (session)", "/bench/bare/", True),
        ("/b/<code>/", f"/b/{page_brand}/", False),
        ("/brands/", "/brands/", False),
        ("/rankings/", "/rankings/", False),
        ("/dashboard/", "/dashboard/", True),
    ]


# --- the server -----------------------------------------------------------------------------------------


def server_environment(url: str, redis_url: str, static_root: Path, surge_min_daily: float | None = None) -> dict:
    extra = {} if surge_min_daily is None else {"SURGE_MIN_DAILY": str(surge_min_daily)}
    return dict(
        os.environ,
        **extra,
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        BENCH_STATIC_ROOT=str(static_root),
        SECRET_KEY=SECRET_KEY,
        DEBUG="false",
        ALLOWED_HOSTS=HOST,
        TRUSTED_PROXY_COUNT="1",  # as behind deploy/nginx.conf: the client address is X-Forwarded-For's last
        PYTHONPATH=str(ROOT),
    )


def start_server(env: dict, workers: int, log: Path) -> subprocess.Popen:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    server = subprocess.Popen(
        [gunicorn, "config.wsgi:application", f"--bind={HOST}:{PORT}", f"--workers={workers}"]
        + ["--worker-class=sync", "--log-level=warning"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:  # e.g. the port is taken: never measure another server
            raise RuntimeError(f"gunicorn exited with {server.returncode}; see {log}")
        try:
            connection = HTTPConnection(HOST, PORT, timeout=2)
            connection.request("GET", "/healthz")
            status = connection.getresponse().status
            connection.close()
            if status == 200 and len(worker_pids(server.pid)) == workers:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not start")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def worker_pids(master: int) -> list[int]:
    try:
        return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


def csrf_pair(code: str) -> tuple[str, str]:
    """A browser's GET of the form: its CSRF cookie and token; checks the form still has the fields we send."""
    connection = HTTPConnection(HOST, PORT, timeout=30)
    connection.request("GET", f"/b/{code}/rate/", headers={"X-Forwarded-For": "198.18.255.1"})
    response = connection.getresponse()
    page = response.read().decode()
    connection.close()
    cookies = SimpleCookie()
    for header in response.msg.get_all("Set-Cookie") or []:
        cookies.load(header)
    fields = set(re.findall(r'name="([a-z_]+)"', page))
    missing = {"csrfmiddlewaretoken", "overall", "rater_group", "started", "website"} - fields
    if response.status != 200 or "csrftoken" not in cookies or "rater_device" not in cookies or missing:
        raise RuntimeError(f"GET /b/{code}/rate/ answered {response.status}; missing {missing or 'cookies'}")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return cookies["csrftoken"].value, token


def session_cookie(reviewer) -> str:
    """The reviewer's session (stored in the database the server reads), as a browser would send it."""
    from django.test import Client

    client = Client()
    client.force_login(reviewer)
    return f"sessionid={client.cookies['sessionid'].value}"


# --- wrk ------------------------------------------------------------------------------------------------


class Runner:
    """Runs wrk with one of bench/wrk/*.lua; numbers each path's requests across its runs (the offset)."""

    def __init__(self, args, pools: dict[str, Path], codes_file: Path, csrf: tuple[str, str], cookie: str):
        self.threads = args.wrk_threads
        self.pools, self.codes_file, self.csrf, self.cookie = pools, codes_file, csrf, cookie
        self.offsets: collections.Counter = collections.Counter()
        self.pool_size = sum(1 for _line in pools["devices"].open())
        self.meter: CpuMeter | None = None

    def post(self, kind: str, connections: int, seconds: float) -> dict:
        offset, threads = str(self.offsets[kind]), str(self.threads)
        script_args = {
            "B": ("raw.lua", [offset, threads]),
            "b": ("api.lua", [str(self.pools["devices"]), str(self.codes_file), offset, threads]),
            "c": ("form.lua", [str(self.pools["forms"]), str(self.codes_file), offset, threads, *self.csrf]),
        }[kind]
        result = self.wrk(script_args[0], BASE, connections, seconds, script_args[1])
        self.offsets[kind] += result["requests"] + self.threads  # + wrk's check of the script's request()
        return result

    def page(self, path: str, seconds: float, cookie: bool) -> dict:
        headers = ["-H", f"Cookie: {self.cookie}"] if cookie else []
        return self.wrk("page.lua", BASE + path, 1, seconds, [], headers)

    def wrk(self, script: str, url: str, connections: int, seconds: float, script_args, headers=()) -> dict:
        threads = min(self.threads, connections)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        output = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout", "30s", *headers]
            + ["-s", str(WRK_DIR / script), url, "--", *script_args],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if self.meter is not None:
            self.meter.sample()
        line = next((line for line in output.splitlines() if line.startswith("BENCH_RESULT ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no result:\n{output}")
        result = json.loads(line.removeprefix("BENCH_RESULT "))
        result["statuses"] = {int(status): n for status, n in result["statuses"].items()}
        result["client_cpu"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return result


def merge(runs: list[dict]) -> dict:
    """Rounds of one configuration: rate over all requests; p50/p99 as the median of the rounds' values."""
    requests = sum(run["requests"] for run in runs)
    seconds = sum(run["duration_us"] for run in runs) / 1e6
    statuses: collections.Counter = collections.Counter()
    errors: collections.Counter = collections.Counter()
    for run in runs:
        statuses.update(run["statuses"])
        errors.update(run["errors"])
    return {
        "requests": requests,
        "rate": requests / seconds,
        "p50": statistics.median(run["p50_us"] for run in runs) / 1000,
        "p99": statistics.median(run["p99_us"] for run in runs) / 1000,
        "p99_max": max(run["p99_us"] for run in runs) / 1000,
        "statuses": dict(sorted(statuses.items())),
        "errors": sum(errors.values()),
        "client_cores": sum(run["client_cpu"] for run in runs) / seconds,
    }


# --- CPU of everything on the machine (the noise) ---------------------------------------------------------


def cpu_by_process() -> dict[int, tuple[str, float]]:
    """Seconds of CPU used so far by each process we can see: {pid: (name, seconds)}."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        out[int(stat.parent.name)] = (name, (int(fields[11]) + int(fields[12])) / tick)
    return out


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores, every process, visible or not)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used between ``start()`` and the last ``sample()``, by process name and for the whole machine.

    Sampled after every wrk run: database backends come and go (CONN_MAX_AGE), so one snapshot at each
    end would miss those that exited in between.
    """

    def __init__(self, ours: set[int]):
        self.ours = ours
        self.used: collections.Counter = collections.Counter()

    def start(self) -> None:
        self.last, self.busy_start, self.started = cpu_by_process(), machine_busy(), time.monotonic()

    def sample(self) -> None:
        now = cpu_by_process()
        for pid, (name, cpu) in now.items():
            spent = cpu - self.last.get(pid, (name, 0.0))[1]
            if spent > 0:
                self.used["bench: gunicorn" if pid in self.ours else name] += spent
        self.last, self.elapsed, self.busy = now, time.monotonic() - self.started, machine_busy() - self.busy_start

    def report(self) -> str:
        kinds = "; ".join(f"{kind} {cpu / self.elapsed:.2f}" for kind, cpu in self.used.most_common(6))
        return (
            f"{self.busy / self.elapsed:.2f} of {os.cpu_count()} cores busy over {self.elapsed:.0f} s of measurements "
            f"(whole machine); processes visible here, in cores: {kinds}"
        )


# --- py-spy ---------------------------------------------------------------------------------------------


def py_spy() -> str | None:
    return shutil.which("py-spy") or next(
        (str(path) for path in [Path(sys.executable).parent / "py-spy"] if path.exists()), None
    )


def profile(spy: str, master: int, seconds: float, load, out: Path) -> list[str]:
    """py-spy over every worker while ``load()`` runs: the top frames of the samples inside requests."""
    recorder = subprocess.Popen(
        [spy, "record", "--pid", str(master), "--subprocesses", "--nonblocking", "--format", "raw"]
        + ["--rate", "200", "--duration", str(int(seconds)), "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1)  # attached before the load starts
    load()
    _out, error = recorder.communicate(timeout=seconds + 60)
    if not out.exists():
        return [f"py-spy failed: {error.decode(errors='replace').strip()[-300:]}"]
    inclusive: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [short_frame(frame) for frame in stack.split(";")]
        if not count.isdigit() or not any(frame.startswith("WSGIHandler.__call__ ") for frame in frames):
            continue  # only samples of a worker handling a request (not gunicorn's loop, not py-spy's view)
        n = int(count)
        total += n
        for frame in set(frames):
            if project_frame(frame):
                inclusive[frame] += n
        own[frames[-1]] += n
    if not total:
        return ["py-spy recorded no sample of a request"]
    lines = [f"{total} samples inside requests; the project's frames, inclusive (with what they call):"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(12)]
    lines.append("where the time is spent (self, any code):")
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(10)]
    return lines


def project_frame(frame: str) -> bool:
    """A frame of the project's code (short_frame made its path relative), not the middleware."""
    path = frame.rsplit("(", 1)[-1]
    return path.split("/", 1)[0] in PROJECT_PACKAGES and not path.startswith("config/middleware")


def short_frame(frame: str) -> str:
    """``func (/long/path/site-packages/pkg/mod.py:12)`` → ``func (pkg/mod.py)``: lines merged."""
    match = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    if not match:
        return frame
    function, path = match.groups()
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        path = "stdlib/" + Path(path).name if "/lib/python3" in path else path
    return f"{function} ({path})"


def profile_misses(args, goals, runner, master: int, page_brand: str, directory: Path) -> dict:
    """Each missed goal's load again, for ``--profile-seconds``, under py-spy: {target: lines}."""
    spy = py_spy() if args.profile_seconds > 0 else None
    seconds = args.profile_seconds
    profiles: dict[tuple, list[str]] = {}
    for _goal, met, _figures, target in goals:
        if met or target is None or target in profiles:
            continue
        if spy is None:
            profiles[target] = ["(not profiled: py-spy is not installed; pip install py-spy)"]
            continue
        if target[0] == "post":
            _post, kind, count = target

            def load(kind=kind, count=count):
                runner.post(kind, count, seconds - 2)
        else:
            path, logged_in = next((p, who) for label, p, who in page_list(page_brand) if label == target[1])

            def load(path=path, logged_in=logged_in):
                runner.page(path, seconds - 2, logged_in)

        profiles[target] = profile(spy, master, seconds, load, directory / f"profile-{len(profiles)}.txt")
    return profiles


# --- the run --------------------------------------------------------------------------------------------


def measure(args, runner: Runner, page_brand: str) -> tuple[dict, dict]:
    connections = [int(n) for n in args.connections.split(",")]
    print("warm-up (not counted): each path at 8 connections, each page at 1", flush=True)
    for kind in "Bbc":
        runner.post(kind, 8, 2)
    pages = page_list(page_brand)
    for _label, path, cookie in pages:
        runner.page(path, 1, cookie)
    runs: dict[tuple[str, int], list] = collections.defaultdict(list)
    per_run = args.seconds / args.rounds
    print(f"{args.rounds} rounds of B, b, c at {connections} connections, {per_run:.0f} s each:", flush=True)
    for number in range(args.rounds):
        for count in connections:
            for kind in "Bbc":
                result = runner.post(kind, count, per_run)
                runs[(kind, count)].append(result)
        print(
            f"  round {number + 1}: "
            + ", ".join(
                f"{kind}@{count} {run['requests'] * 1e6 / run['duration_us']:.0f}/s"
                for count in connections
                for kind in "Bbc"
                for run in runs[(kind, count)][-1:]
            ),
            flush=True,
        )
    paths = {key: merge(value) for key, value in runs.items()}
    page_runs: dict[str, list] = collections.defaultdict(list)
    per_page = args.page_seconds / args.rounds
    print(f"{args.rounds} rounds of T and the pages, 1 connection, {per_page:.0f} s each", flush=True)
    for _number in range(args.rounds):
        for label, path, cookie in pages:
            page_runs[label].append(runner.page(path, per_page, cookie))
    return paths, {label: merge(value) for label, value in page_runs.items()}


def judge(args, paths: dict, pages: dict) -> list[tuple[str, bool, str, tuple]]:
    """(goal, met, figures, what to profile on a miss)."""
    connections = [int(n) for n in args.connections.split(",")]
    judged = connections[-1]
    goals = []
    for kind, name in (("b", "API"), ("c", "form")):
        for count in connections:
            ratio = paths[(kind, count)]["rate"] / paths[("B", count)]["rate"]
            goals.append(
                (
                    f"({kind}) {name} req/s ≥ {RATE_RATIO_GOAL} × B at {count} connections",
                    ratio >= RATE_RATIO_GOAL,
                    f"{ratio:.2f} × B",
                    ("post", kind, judged),
                )
            )
        ratio = paths[(kind, judged)]["p99"] / paths[("B", judged)]["p99"]
        goals.append(
            (
                f"({kind}) {name} p99 ≤ {P99_RATIO_GOAL:.0f} × B's p99 at {judged} connections",
                ratio <= P99_RATIO_GOAL,
                f"{ratio:.2f} × B",
                ("post", kind, judged),
            )
        )
        unexpected = {
            status: n
            for count in connections
            for status, n in paths[(kind, count)]["statuses"].items()
            if not 200 <= status < 400
        }
        errors = sum(paths[(kind, count)]["errors"] for count in connections)
        goals.append(
            (
                f"({kind}) {name}: only 2xx/3xx (no 429 is intended: addresses are spread) and no socket error",
                not unexpected and not errors,
                f"other statuses {unexpected or 'none'}, socket errors {errors}",
                None,
            )
        )
    floor = pages["T"]["p50"]
    for label in ("/b/<code>/", "/brands/", "/rankings/", "/dashboard/"):
        ratio = pages[label]["p50"] / floor
        goals.append(
            (
                f"(d) {label} p50 ≤ {PAGE_RATIO_GOAL:.0f} × T",
                ratio <= PAGE_RATIO_GOAL,
                f"{pages[label]['p50']:.1f} ms = {ratio:.1f} × T",
                ("page", label),
            )
        )
    return goals


def main() -> int:
    args = parse_args()
    url = os.environ.get("BENCH_SUBMIT_DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("BENCH_SUBMIT_REDIS_URL", DEFAULT_REDIS_URL)
    if not url.startswith("postgres"):
        print("bench/submit.py needs BENCH_SUBMIT_DATABASE_URL on PostgreSQL", file=sys.stderr)
        return 2
    if not shutil.which("wrk"):
        print("bench/submit.py needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    directory = Path(tempfile.mkdtemp(prefix="bench-submit-"))
    static_root = directory / "static"
    # The loader and the in-process counts: eager tasks and a local cache; the server gets Redis.
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        BENCH_STATIC_ROOT=str(static_root),
        SECRET_KEY=SECRET_KEY,
        DEBUG="false",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("TRUSTED_PROXY_COUNT", None)
    print(f"bench-submit: {args.ratings:,} ratings over {args.brands:,} brands; database {url}", flush=True)

    import redis

    from bench.run import drop_database, recreate_database

    store = redis.Redis.from_url(redis_url)
    recreate_database(url)
    server = None
    log = directory / "gunicorn.log"
    try:
        import django

        django.setup()
        from django.core.management import call_command

        print("load:", flush=True)
        data = load(args)
        step(
            "collectstatic (manifest storage, into a temporary STATIC_ROOT)",
            lambda: call_command("collectstatic", interactive=False, verbosity=0),
        )
        queries = page_queries(data["reviewer"], data["page_brand"])
        print(f"  queries of one repeated request, in-process: {queries}", flush=True)
        pool_size = int(POOL_RATE * (len(args.connections.split(",")) * args.seconds + 10 + args.profile_seconds))
        pools = step(f"{pool_size:,} device ids and {pool_size:,} forms", lambda: write_pools(directory, pool_size))
        codes_file = directory / "brands.txt"
        codes_file.write_text("\n".join(data["codes"]) + "\n")
        cookie = session_cookie(data["reviewer"])
        first_id = last_rating_id()
        from django.db import connections

        connections.close_all()

        store.flushdb()
        env = server_environment(url, redis_url, static_root, args.surge_min_daily)
        server = start_server(env, args.workers, log)
        print(
            f"gunicorn on {HOST}:{PORT}, {args.workers} sync workers, Redis {redis_url}, "
            f"TRUSTED_PROXY_COUNT=1; {len(data['codes'])} public brands",
            flush=True,
        )
        runner = Runner(args, pools, codes_file, csrf_pair(data["codes"][0]), cookie)
        runner.meter = CpuMeter({server.pid, *worker_pids(server.pid)})
        runner.meter.start()
        load_before = os.getloadavg()[0]
        paths, pages = measure(args, runner, data["page_brand"])
        noise = runner.meter.report()
        runner.meter = None
        goals = judge(args, paths, pages)

        profiles = profile_misses(args, goals, runner, server.pid, data["page_brand"], directory)
        states = rating_states(first_id)
    finally:
        if server is not None:
            stop_server(server)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(url)
        store.flushdb()
        server_log = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(directory, ignore_errors=True)

    report(args, paths, pages, queries, goals, profiles, states, noise, load_before, server_log, runner)
    unexpected = any(not met for goal, met, _f, target in goals if target is None)
    return 1 if unexpected else 0


def last_rating_id() -> int:
    from evaluations.models import Evaluation

    return Evaluation.objects.order_by("-id").values_list("id", flat=True).first() or 0


def rating_states(after_id: int) -> dict:
    """What became of the ratings sent during the bench: counted, or held and why (the receipts' states)."""
    from django.db.models import Count

    from evaluations.models import Evaluation

    rows = (
        Evaluation.objects.filter(id__gt=after_id)
        .values("channel", "state", "state_reason")
        .annotate(n=Count("id"))
        .order_by("channel", "-n")
    )
    return {(row["channel"], row["state"], row["state_reason"] or "-"): row["n"] for row in rows}


def report(args, paths, pages, queries, goals, profiles, states, noise, load_before, server_log, runner) -> None:
    connections = [int(n) for n in args.connections.split(",")]
    names = {"B": "B bare raw-SQL insert view", "b": "(b) API POST evaluations", "c": "(c) form POST /b/<code>/rate/"}
    print()
    print(
        f"| path | connections | requests | req/s | × B | p50 ms | p99 ms (median of {args.rounds} rounds; worst) "
        "| statuses | socket errors | wrk CPU (cores) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for count in connections:
        for kind in "Bbc":
            row = paths[(kind, count)]
            ratio = row["rate"] / paths[("B", count)]["rate"]
            p99_ratio = row["p99"] / paths[("B", count)]["p99"]
            print(
                f"| {names[kind]} | {count} | {row['requests']:,} | {row['rate']:.0f} | {ratio:.2f} "
                f"| {row['p50']:.1f} | {row['p99']:.1f} ({p99_ratio:.2f} × B); {row['p99_max']:.1f} "
                f"| {row['statuses']} | {row['errors']} | {row['client_cores']:.2f} |"
            )
    print()
    print("| page (1 connection) | p50 ms | × T | p99 ms | req/s | queries (in-process, repeated) | statuses |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for label, row in pages.items():
        print(
            f"| {label} | {row['p50']:.1f} | {row['p50'] / pages['T']['p50']:.2f} | {row['p99']:.1f} "
            f"| {row['rate']:.0f} | {queries[label]} | {row['statuses']} |"
        )
    print()
    print("| goal | figure | met |")
    print("|---|---|---|")
    for goal, met, figures, _target in goals:
        print(f"| {goal} | {figures} | {'met' if met else 'NOT MET'} |")
    for target, lines in profiles.items():
        what = f"{names[target[1]]} at {target[2]} connections" if target[0] == "post" else f"page {target[1]}"
        print(f"\npy-spy record, {what} ({args.workers} workers; idle threads left out, so a thread that is")
        print("runnable but waiting for a core, or in a short wait inside the database driver, counts as busy):")
        for line in lines:
            print(f"  {line}")
    print(
        "\nratings stored during the bench (channel, state, reason): "
        + ", ".join(f"{channel}/{state}/{reason} {n:,}" for (channel, state, reason), n in states.items())
    )
    degraded = server_log.count("degraded mode")
    errors = len(re.findall(r"^Traceback|ERROR", server_log, flags=re.MULTILINE))
    print(f"server log: {degraded} switches to Redis degraded mode, {errors} errors logged")
    print(f"CPU: {noise}")
    print(f"load average before: {load_before:.2f}; the machine is shared, so figures carry that noise.")
    used = {kind: runner.offsets[kind] for kind in "bc"}
    wrapped = {kind: n for kind, n in used.items() if n > runner.pool_size}
    print(
        f"requests sent per rating path {used} against {runner.pool_size:,} devices each: "
        + (
            f"the pool wrapped for {sorted(wrapped)} (repeat devices are stored, not counted)"
            if wrapped
            else "every rating from its own device"
        )
    )


if __name__ == "__main__":
    sys.exit(main())
