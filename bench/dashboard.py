"""`make bench-dashboard`: the organization department's dashboard over gunicorn and PostgreSQL. Prints figures.

Not a test. Creates the database `bench_dashboard` (dropped at the end unless --keep;
BENCH_DASHBOARD_DATABASE_URL names another), migrates and loads:

  tree          市委 → 10 区委 → 100 党委 → 1,000 党支部 (1,111 organizations), treebeard paths in bulk
  brands        10k, mostly on branches and committees; drafts, submitted and returned ones, public ones
                (cultivating, named, demonstration) with their status history, a few revoked
  ratings       1M by COPY, 2025-01 to today, each brand rated from the day it became public; a tenth of
                the brands rated worse, a few falling last month; some verified, flagged, held in surges
  plans         a plan with four milestones for a quarter of the public brands, some overdue
  rectifications  a few thousand, from bad ratings with a contact, in every status
  帮扶 cases      a few dozen; the user `reviewer` with a REVIEWER membership on the city

then times the precompute jobs (scores_recompute_full, figures_refresh, warnings_evaluate), counts the
queries of one dashboard request in-process (django.test.Client, a separate measurement, not timed),
starts gunicorn on 127.0.0.1:8105 (2 workers, DEBUG=false, manifest static files collected into a
temporary STATIC_ROOT, Redis db 8 flushed first), logs in once for a session cookie and drives
GET /dashboard/ with wrk on one connection (latency, not throughput). Goal: p50 ≤ 300 ms.

    make bench-dashboard
    make bench-dashboard DASHBOARD_ARGS="--seconds 60 --keep"
"""

import argparse
import datetime
import http.client
import io
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_dashboard"
REDIS_URL = "redis://127.0.0.1:6379/8"
HOST, PORT = "127.0.0.1", 8105
USERNAME, PASSWORD = "reviewer", "bench-reviewer-2026"
GOAL_P50_MS = 300.0

DOMAINS = ["organ", "community", "rural", "soe", "private", "school", "social"]
# Share of a domain's branches that run a brand: coverage differs by domain, as it does in practice.
BRANCH_COVERAGE = {"organ": 0.9, "community": 0.85, "rural": 0.55, "soe": 0.8, "private": 0.6, "school": 0.85}
STATUS_WEIGHTS = {
    "draft": 5,
    "submitted": 2,
    "returned": 1,
    "revoked": 1,
    "cultivating": 40,
    "named": 35,
    "demonstration": 16,
}
GRADE_WEIGHTS = [0.02, 0.03, 0.07, 0.23, 0.65]  # as bench/run.py: mostly 5s, a tail of bad reviews
POOR_GRADE_WEIGHTS = [0.08, 0.10, 0.17, 0.30, 0.35]
GROUP_CYCLE = ["masses"] * 12 + ["member"] * 5 + ["sub_org"] * 3
# Indexed by a hash of the rating's id: mostly confirmed, every other status too.
RECTIFICATION_STATUSES = (
    ["confirmed"] * 8
    + ["closed"] * 2
    + ["responded"] * 3
    + ["open"] * 2
    + ["reopened", "escalated", "escalated", "appealed", "upheld"]
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--brands", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=20, help="length of the timed wrk run on the root")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    return parser.parse_args()


def step(label: str, function):
    """Run one step, print its wall-clock time, return (seconds, result)."""
    started = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.1f} s", flush=True)
    return seconds, result


def copy_rows(table: str, columns: list[str], rows) -> None:
    """COPY tab-separated rows (None as NULL) into `table`."""
    from django.db import connection

    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(r"\N" if value is None else str(value) for value in row) + "\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def execute(sql: str, params: list | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.rowcount


# --- the data ------------------------------------------------------------------------------------------------


def load_tree() -> dict:
    """市委 → 10 区委 → 100 党委 → 1,000 党支部, as treebeard MP nodes written in bulk."""
    from organizations.models import Organization

    city = Organization.objects.add_root(dict(name="市委", level="city", domain="organ"))
    nodes = []
    for d in range(10):
        district_path = Organization._get_path(city.path, 2, d + 1)
        nodes.append(
            Organization(
                name=f"区委{d:02d}", level="district", domain="organ", path=district_path, depth=2, numchild=10
            )
        )
        for c in range(10):
            domain = DOMAINS[(d * 10 + c) % len(DOMAINS)]
            committee_path = Organization._get_path(district_path, 3, c + 1)
            nodes.append(
                Organization(
                    name=f"党委{d:02d}-{c:02d}",
                    level="committee",
                    domain=domain,
                    path=committee_path,
                    depth=3,
                    numchild=10,
                    region=f"区{d:02d}",
                )
            )
            for b in range(10):
                # Most branches share their committee's domain; a mixed committee has others too.
                branch_domain = domain if b < 8 else DOMAINS[(d + c + b) % len(DOMAINS)]
                nodes.append(
                    Organization(
                        name=f"党支部{d:02d}-{c:02d}-{b:02d}",
                        level="branch",
                        domain=branch_domain,
                        path=Organization._get_path(committee_path, 4, b + 1),
                        depth=4,
                        region=f"区{d:02d}",
                    )
                )
    Organization.objects.bulk_create(nodes, batch_size=2000)
    Organization.objects.filter(pk=city.pk).update(numchild=10)
    by_level: dict[str, list[tuple[int, str]]] = {}
    for pk, level, domain in Organization.objects.order_by("path").values_list("pk", "level", "domain"):
        by_level.setdefault(level, []).append((pk, domain))
    return {"city": city, "by_level": by_level, "count": len(nodes) + 1}


def _day(value: datetime.date) -> str:
    return value.isoformat()


def load_brands(count: int, tree: dict, today: datetime.date, rng: random.Random) -> tuple[list, object]:
    """Brands with their status history; returns (rated brands, reviewer).

    Each rated brand is (id, organization id, first day rated, last day rated, poor, falling).
    """
    from brands.models import Brand
    from organizations.models import Membership, User

    reviewer = User.objects.create_user(USERNAME, password=PASSWORD, display_name="组织部评审")
    Membership.objects.create(user=reviewer, organization=tree["city"], role=Membership.Role.REVIEWER)
    levels = tree["by_level"]
    branches = [(pk, domain) for pk, domain in levels["branch"] if rng.random() < BRANCH_COVERAGE.get(domain, 0.75)]
    statuses = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()), k=count)
    yesterday = today - datetime.timedelta(days=1)
    brands, specs = [], []
    for i in range(count):
        place = rng.random()
        if place < 0.78:
            organization_id, _domain = rng.choice(branches)
            level = "grassroots"
        elif place < 0.97:
            organization_id, _domain = rng.choice(levels["committee"])
            level = "street" if i % 2 else "grassroots"
        elif place < 0.995:
            organization_id, _domain = rng.choice(levels["district"])
            level = "district"
        else:
            organization_id, level = tree["city"].pk, "city"
        status = statuses[i]
        # (day, decision, from, to): the history brands.services would have written.
        history = []
        if status in ("draft", "submitted", "returned"):
            created = today - datetime.timedelta(days=rng.randint(3, 120))
            if status != "draft":
                history.append((created + datetime.timedelta(days=1), "submit", "draft", "submitted"))
            if status == "returned":
                history.append((created + datetime.timedelta(days=2), "return", "submitted", "returned"))
        else:
            # Most public brands date from 2024; some became public during the dashboard's months.
            if rng.random() < 0.9:
                created = datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randint(0, 364))
            else:
                created = datetime.date(2025, 10, 1) + datetime.timedelta(days=rng.randint(0, 360))
                created = min(created, today - datetime.timedelta(days=40))
            approved = created + datetime.timedelta(days=20)
            history += [
                (created + datetime.timedelta(days=3), "submit", "draft", "submitted"),
                (approved, "approve", "submitted", "cultivating"),
            ]
            previous = approved
            if status in ("named", "demonstration") or (status == "revoked" and i % 2):
                named = min(yesterday, max(approved + datetime.timedelta(days=30), datetime.date(2025, 1, 1)))
                named += datetime.timedelta(days=rng.randint(0, max(0, (yesterday - named).days)))
                history.append((min(named, yesterday), "name", "cultivating", "named"))
                previous = min(named, yesterday)
            if status == "demonstration":
                shown = min(yesterday, previous + datetime.timedelta(days=rng.randint(30, 400)))
                history.append((shown, "demonstrate", "named", "demonstration"))
            if status == "revoked":
                revoked = min(yesterday, previous + datetime.timedelta(days=rng.randint(60, 300)))
                history.append((revoked, "revoke", history[-1][3], "revoked"))
        brands.append(
            Brand(
                organization_id=organization_id,
                code=f"D{i:06d}",
                name=f"品牌{i:05d}",
                slogan="为民服务",
                level=level,
                status=status,
                service_targets=["masses"],
            )
        )
        specs.append((created, history))
    Brand.objects.bulk_create(brands, batch_size=2000)
    # created_at is auto_now_add: set the past dates afterwards, through a COPY'd table.
    execute("CREATE TEMPORARY TABLE bench_brand_created (id bigint, created_at timestamptz)")
    copy_rows(
        "bench_brand_created",
        ["id", "created_at"],
        ((brand.pk, f"{_day(created)} 09:00:00+08") for brand, (created, _h) in zip(brands, specs, strict=True)),
    )
    execute(
        "UPDATE brands_brand b SET created_at = c.created_at, updated_at = c.created_at "
        "FROM bench_brand_created c WHERE c.id = b.id"
    )
    execute("DROP TABLE bench_brand_created")
    copy_rows(
        "brands_brandtransition",
        ["brand_id", "organization_id", "actor_id", "decision", "from_status", "to_status", "comment", "created_at"],
        (
            (brand.pk, brand.organization_id, reviewer.pk, decision, before, after, "", f"{_day(day)} 10:00:00+08")
            for brand, (_created, history) in zip(brands, specs, strict=True)
            for day, decision, before, after in history
        ),
    )
    first_day = datetime.date(2025, 1, 1)
    rated = []
    for brand, (_created, history) in zip(brands, specs, strict=True):
        public = [day for day, decision, _before, _after in history if decision == "approve"]
        if not public:
            continue
        revoked = [day for day, decision, _before, _after in history if decision == "revoke"]
        start = max(first_day, public[0])
        end = revoked[0] if revoked else today
        if end <= start:
            continue
        poor = rng.random() < 0.1
        falling = not poor and brand.pk % 53 == 0
        rated.append(((end - start).days + 1, brand.pk, brand.organization_id, start, poor, falling))
    return rated, reviewer


def copy_ratings(rated: list, count: int, today: datetime.date, rng: random.Random) -> None:
    """COPY `count` ratings over the rated brands, each within its public window, in chunks.

    Brands differ in popularity (log-normal) and in quality (a tenth are rated worse); a few fall in the
    last complete month (the "fall" warning). One device per rating, as in bench/run.py.
    """
    from django.db import connection

    columns = (
        "brand_id, organization_id, overall, management, service, quality, rater_group, comment, contact, "
        "channel, receipt, device_hash, ip_hash, state, state_reason, verified, rated_on, created_at, "
        "comment_status, comment_reason"
    )
    weights, cumulative = [], 0.0
    for days, *_rest in rated:
        cumulative += days * rng.lognormvariate(0, 0.7)
        weights.append(cumulative)
    picks = rng.choices(range(len(rated)), cum_weights=weights, k=count)
    good = rng.choices(range(1, 6), weights=GRADE_WEIGHTS, k=count)
    poor = rng.choices(range(1, 6), weights=POOR_GRADE_WEIGHTS, k=count)
    month_start = today.replace(day=1)
    last_month_start = (month_start - datetime.timedelta(days=1)).replace(day=1)
    chunk = 200_000
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for begin in range(0, count, chunk):
            buffer = io.StringIO()
            for i in range(begin, min(begin + chunk, count)):
                days, brand_id, organization_id, start, is_poor, falling = rated[picks[i]]
                day = start + datetime.timedelta(days=rng.randrange(days))
                worse = is_poor or (falling and last_month_start <= day < month_start)
                grade = poor[i] if worse else good[i]
                dimension = str(min(5, max(1, grade + rng.choice((-1, 0, 0, 1))))) if i % 2 else r"\N"
                receipt = i + 1
                state = "flagged" if receipt % 33 == 0 else "excluded" if receipt % 211 == 0 else "counted"
                verified = "t" if receipt % 17 == 0 else "f"
                contact, comment, comment_status = "", "", "none"
                if grade <= 2 and receipt % 2:
                    contact, comment, comment_status = f"1380000{receipt % 10000:04d}", "办事要跑好几趟", "published"
                channel = "api" if receipt % 7 == 0 else "web"
                buffer.write(
                    f"{brand_id}\t{organization_id}\t{grade}\t{dimension}\t{dimension}\t\\N\t"
                    f"{GROUP_CYCLE[receipt % 20]}\t{comment}\t{contact}\t{channel}\tR{receipt:015d}\td{receipt}\t"
                    f"i{receipt % 70000}\t{state}\t\t{verified}\t{day}\t{day} 12:00:00+08\t{comment_status}\t\n"
                )
            buffer.seek(0)
            raw.copy_expert(f"COPY evaluations_evaluation ({columns}) FROM STDIN", buffer)


def load_surges(today: datetime.date) -> int:
    """Flagged ratings of the last 60 days of a quarter of the brands are held in open surges."""
    since = today - datetime.timedelta(days=60)
    created = execute(
        "INSERT INTO evaluations_surge (brand_id, organization_id, day, status, expected, own_rate, peer_rate, "
        "threshold, note, created_at) "
        "SELECT brand_id, min(organization_id), rated_on, 'open', 1.5, 1.2, 1.5, 6, '', "
        "(rated_on + time '21:00') AT TIME ZONE 'Asia/Shanghai' FROM evaluations_evaluation "
        "WHERE state = 'flagged' AND brand_id %% 4 = 0 AND rated_on >= %s GROUP BY brand_id, rated_on",
        [since],
    )
    execute(
        "UPDATE evaluations_evaluation e SET surge_id = s.id, state_reason = 'surge' FROM evaluations_surge s "
        "WHERE e.brand_id = s.brand_id AND e.rated_on = s.day AND e.state = 'flagged'"
    )
    return created


def load_rectifications(today: datetime.date, since: datetime.date) -> int:
    """A fifth of the bad ratings with a contact since `since` get a rectification, in every status."""
    statuses = "ARRAY[" + ", ".join(f"'{status}'" for status in RECTIFICATION_STATUSES) + "]"
    # Ids step by 10 here (the filter below and the odd receipts that have a contact): spread them.
    status = f"CASE WHEN e.rated_on >= %s THEN 'open' ELSE ({statuses})[(e.id / 10) %% 20 + 1] END"
    responded = "(e.rated_on + (e.id %% 11) * interval '1 day' + time '15:00') AT TIME ZONE 'Asia/Shanghai'"
    return execute(
        f"""
        INSERT INTO evaluations_rectification (evaluation_id, brand_id, organization_id, status, due_on,
            contact_due_on, is_overdue, reopen_count, response, responded_at, verdict, appeal_reason,
            status_before_appeal, ruling, reminded_on, created_at)
        SELECT r.id, r.brand_id, r.organization_id, r.status, r.due_on, r.due_on - 6,
               r.status IN ('open', 'reopened') AND r.due_on < %s,
               CASE WHEN r.status = 'reopened' THEN 1 ELSE 0 END,
               CASE WHEN r.status = 'open' THEN '' ELSE '已联系群众并整改' END,
               CASE WHEN r.status = 'open' THEN NULL ELSE LEAST(r.responded, now()) END,
               CASE r.status WHEN 'confirmed' THEN 'satisfied' WHEN 'escalated' THEN 'dissatisfied' ELSE '' END,
               CASE WHEN r.status IN ('appealed', 'upheld') THEN '差评与事实不符' ELSE '' END,
               CASE WHEN r.status = 'appealed' THEN 'responded' ELSE '' END,
               CASE WHEN r.status IN ('closed', 'upheld') THEN '已核实' ELSE '' END,
               NULL, r.created_at
        FROM (
            SELECT e.id, e.brand_id, e.organization_id, {status} AS status, e.rated_on + 7 AS due_on,
                   {responded} AS responded, (e.rated_on + time '12:05') AT TIME ZONE 'Asia/Shanghai' AS created_at
            FROM evaluations_evaluation e
            WHERE e.overall <= 2 AND e.contact <> '' AND e.rated_on >= %s AND e.id %% 5 = 0
        ) r
        """,
        [today, today - datetime.timedelta(days=10), since],
    )


def load_plans(rated: list, today: datetime.date, rng: random.Random) -> int:
    """A plan with four weighted milestones for every fourth rated brand; most past ones done, some overdue."""
    from brands.models import Milestone, Plan

    plans = [
        Plan(brand_id=brand_id, organization_id=organization_id, start_year=2025, end_year=2027, goals="三年规划")
        for _days, brand_id, organization_id, *_rest in rated[::4]
    ]
    Plan.objects.bulk_create(plans, batch_size=2000)
    milestones = []
    for plan in plans:
        for k, due in enumerate(
            (datetime.date(2025, 6, 30), datetime.date(2025, 12, 31), datetime.date(2026, 6, 30), today)
        ):
            due = due + datetime.timedelta(days=rng.randint(0, 150))
            done = rng.random() < (0.9 if due < today else 0.2)
            milestones.append(
                Milestone(
                    plan=plan,
                    organization_id=plan.organization_id,
                    title=f"阶段{k + 1}",
                    due_date=due,
                    weight=1 + (plan.brand_id + k) % 3,
                    completed_on=min(today, due - datetime.timedelta(days=rng.randint(0, 20))) if done else None,
                )
            )
    Milestone.objects.bulk_create(milestones, batch_size=5000)
    return len(milestones)


def load_cases(rated: list, reviewer, rng: random.Random) -> int:
    """A few dozen 帮扶 cases: poorly rated brands paired with the organizations of demonstration brands."""
    from brands.models import Brand
    from dashboards.models import SupportCase

    mentors = list(
        Brand.objects.filter(status=Brand.Status.DEMONSTRATION).values_list("organization_id", flat=True)[:200]
    )
    poor = [(brand_id, organization_id) for _days, brand_id, organization_id, _start, is_poor, _f in rated if is_poor]
    cases = []
    for k, (brand_id, organization_id) in enumerate(rng.sample(poor, min(48, len(poor)))):
        closed = k % 4 == 0
        cases.append(
            SupportCase(
                organization_id=organization_id,
                brand_id=brand_id,
                mentor_id=next(m for m in rng.sample(mentors, 5) if m != organization_id),
                goal="三个月内差评率降到5%以下",
                status="closed" if closed else "open",
                opened_by=reviewer,
                review="整改到位" if closed else "",
                closed_at=datetime.datetime.now(datetime.UTC) if closed else None,
            )
        )
    SupportCase.objects.bulk_create(cases)
    return len(cases)


def load(args, today: datetime.date) -> dict:
    from django.db import connection

    rng = random.Random(20261201)
    seconds, tree = step("tree (1 city, 10 districts, 100 committees, 1,000 branches)", load_tree)
    print(f"    {tree['count']} organizations", flush=True)
    times = {"tree": seconds}
    times["brands"], (rated, reviewer) = step(
        f"{args.brands:,} brands with status history", lambda: load_brands(args.brands, tree, today, rng)
    )
    print(f"    {len(rated):,} brands rated (public now or once)", flush=True)
    times["ratings"], _none = step(
        f"{args.ratings:,} ratings (COPY)", lambda: copy_ratings(rated, args.ratings, today, rng)
    )
    times["surges"], surges = step("surges holding flagged ratings", lambda: load_surges(today))
    print(f"    {surges} surges", flush=True)
    first_shown = datetime.date(today.year - 1, today.month, 1)
    times["rectifications"], rectifications = step("rectifications", lambda: load_rectifications(today, first_shown))
    print(f"    {rectifications:,} rectifications", flush=True)
    times["plans"], milestones = step("plans and milestones", lambda: load_plans(rated, today, rng))
    print(f"    {milestones:,} milestones", flush=True)
    times["cases"], cases = step("帮扶 cases", lambda: load_cases(rated, reviewer, rng))
    print(f"    {cases} cases", flush=True)

    def vacuum():
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # what autovacuum would have done by now

    times["vacuum"], _none = step("VACUUM ANALYZE", vacuum)
    return {"tree": tree, "reviewer": reviewer, "times": times}


# --- measurements ------------------------------------------------------------------------------------------------


def precompute() -> dict:
    from django.db import connection

    from dashboards import services
    from scores.services import scores_recompute_full

    times = {}
    for name, job in (
        ("scores_recompute_full", scores_recompute_full),
        ("figures_refresh", services.figures_refresh),
        ("warnings_evaluate", services.warnings_evaluate),
    ):
        times[name], result = step(f"{name}()", job)
        print(f"    {result}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return times


def query_counts(reviewer, nodes: dict) -> dict:
    """Queries of one dashboard request per node, in-process: the first (the node's ranking not cached yet) and a
    repeat."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(reviewer)
    counts = {}
    for label, node_id in nodes.items():
        params = {"node": node_id} if node_id else {}
        measured = []
        for _attempt in range(2):
            with CaptureQueriesContext(connection) as queries:
                response = client.get("/dashboard/", params)
            assert response.status_code == 200, (label, response.status_code, response.content[:300])
            measured.append(len(queries))
        counts[label] = measured
        print(f"  {label}: {measured[0]} queries on the first request, {measured[1]} repeated", flush=True)
    return counts


def settings_module(directory: Path) -> str:
    """The product settings with STATIC_ROOT in a temporary directory: collectstatic leaves the tree alone."""
    static = directory / "static"
    (directory / "bench_dashboard_settings.py").write_text(
        f'"""Temporary: bench/dashboard.py."""\n\nfrom config.settings.base import *  # noqa: F403\n\n'
        f"STATIC_ROOT = {str(static)!r}\n"
    )
    return "bench_dashboard_settings"


def login() -> str:
    """Log in once as the reviewer (not load): the session cookie for wrk."""
    connection = http.client.HTTPConnection(HOST, PORT, timeout=30)
    connection.request("GET", "/accounts/login/")
    response = connection.getresponse()
    page = response.read().decode()
    cookies = SimpleCookie()
    for header in response.msg.get_all("Set-Cookie") or []:
        cookies.load(header)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urlencode({"csrfmiddlewaretoken": token, "username": USERNAME, "password": PASSWORD, "next": "/dashboard/"})
    connection.request(
        "POST",
        "/accounts/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken'].value}",
        },
    )
    response = connection.getresponse()
    response.read()
    for header in response.msg.get_all("Set-Cookie") or []:
        cookies.load(header)
    connection.close()
    if response.status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"login failed: {response.status}")
    return f"sessionid={cookies['sessionid'].value}"


def wait_until_up(server: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:  # e.g. the port is taken: never measure another server
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            connection = http.client.HTTPConnection(HOST, PORT, timeout=2)
            connection.request("GET", "/healthz")
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not start")


def curl(path: str, cookie: str) -> tuple[int, float, int, str]:
    """One timed GET with curl: (status, seconds, bytes, body head)."""
    with tempfile.NamedTemporaryFile() as body:
        out = subprocess.run(
            ["curl", "-s", "-o", body.name, "-w", "%{http_code} %{time_total} %{size_download}"]
            + ["-H", f"Cookie: {cookie}", f"http://{HOST}:{PORT}{path}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        head = Path(body.name).read_bytes()[:200_000].decode(errors="replace")
    return int(out[0]), float(out[1]), int(float(out[2])), head


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(path: str, seconds: int, cookie: str) -> dict:
    """One connection, one thread for `seconds`: wrk's latency distribution (ms) and rate."""
    output = subprocess.run(
        ["wrk", "-t1", "-c1", f"-d{seconds}s", "--latency", "--timeout", "60s"]
        + ["-H", f"Cookie: {cookie}", f"http://{HOST}:{PORT}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = {"non_2xx": 0, "errors": ""}
    for line in output.splitlines():
        if match := re.match(r"\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", line):
            result[f"p{match.group(1)}"] = float(match.group(2)) * UNITS_MS[match.group(3)]
        elif match := re.match(r"\s*(\d+) requests in", line):
            result["requests"] = int(match.group(1))
        elif match := re.match(r"Requests/sec:\s+([\d.]+)", line):
            result["rate"] = float(match.group(1))
        elif match := re.match(r"\s*Non-2xx or 3xx responses:\s+(\d+)", line):
            result["non_2xx"] = int(match.group(1))
        elif "Socket errors" in line:
            result["errors"] = line.strip()
    if "p50" not in result:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    return result


def server_environment(url: str, module: str, directory: Path) -> dict:
    """The production shape: DEBUG off, Redis for cache and broker, the manifest static storage."""
    return dict(
        os.environ,
        DATABASE_URL=url,
        REDIS_URL=REDIS_URL,
        DEBUG="false",
        ALLOWED_HOSTS=HOST,
        SECRET_KEY="bench",
        DJANGO_SETTINGS_MODULE=module,
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(directory), str(ROOT)]),
    )


def collectstatic(env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)


def serve_and_measure(args, env: dict, district_id: int) -> dict:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    server = subprocess.Popen(
        [gunicorn, "config.wsgi:application", f"--bind={HOST}:{PORT}", "--workers=2", "--log-level=warning"],
        cwd=ROOT,
        env=env,
    )
    results: dict = {}
    try:
        wait_until_up(server, time.monotonic() + 60)
        cookie = login()
        status, first, size, body = curl("/dashboard/", cookie)
        if status != 200 or 'id="h-public"' not in body:
            raise RuntimeError(f"GET /dashboard/ answered {status} ({size} bytes), not the dashboard")
        results["first"] = first
        print(f"  first GET /dashboard/ after start (empty Redis; curl): {1000 * first:.0f} ms, {size:,} bytes")
        wrk("/dashboard/", 3, cookie)  # warm-up: both workers' imports, templates, connections, caches
        results["root"] = wrk("/dashboard/", args.seconds, cookie)
        root = results["root"]
        print(
            f"  GET /dashboard/ (wrk -t1 -c1 -d{args.seconds}s): p50 {root['p50']:.1f} ms, p90 {root['p90']:.1f} ms, "
            f"p99 {root['p99']:.1f} ms, {root['rate']:.2f} req/s, {root['requests']} requests"
            + (f", {root['non_2xx']} non-2xx" if root["non_2xx"] else ""),
            flush=True,
        )
        district = f"/dashboard/?node={district_id}"
        curl(district, cookie)  # its ranking is read once per scores version, then cached
        results["district"] = wrk(district, 5, cookie)
        print(f"  GET {district} (wrk -d5s): p50 {results['district']['p50']:.1f} ms", flush=True)
        timings = []
        for _attempt in range(2):
            status, seconds, size, _body = curl("/dashboard/export.xlsx", cookie)
            if status != 200:
                raise RuntimeError(f"GET /dashboard/export.xlsx answered {status}")
            timings.append(seconds)
        results["xlsx"] = timings
        print(
            f"  GET /dashboard/export.xlsx (single timed curl, twice): {1000 * timings[0]:.0f} ms, "
            f"{1000 * timings[1]:.0f} ms, {size:,} bytes",
            flush=True,
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return results


def main() -> int:
    args = parse_args()
    url = os.environ.get("BENCH_DASHBOARD_DATABASE_URL", DEFAULT_URL)
    directory = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    module = settings_module(directory)
    sys.path.insert(0, str(directory))
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # the loader and the jobs: eager tasks, local cache
    os.environ["DJANGO_SETTINGS_MODULE"] = module
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    print(f"bench-dashboard: {args.ratings:,} ratings over {args.brands:,} brands; database {url}", flush=True)

    from bench.run import drop_database, recreate_database

    recreate_database(url)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone

        today = timezone.localdate()
        print("load:", flush=True)
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"  migrate: {time.perf_counter() - started:.1f} s", flush=True)
        loaded = load(args, today)
        print(f"  loaded in {time.perf_counter() - started:.1f} s", flush=True)
        print("precompute jobs:", flush=True)
        jobs = precompute()

        from organizations.models import Organization

        env = server_environment(url, module, directory)
        print("static files (the page's manifest storage):", flush=True)
        step("collectstatic (manifest storage, into a temporary STATIC_ROOT)", lambda: collectstatic(env))
        district = Organization.objects.filter(level="district").order_by("path").first()
        committee = Organization.objects.filter(level="committee").order_by("path").first()
        branch = Organization.objects.filter(level="branch").order_by("path").first()
        print("queries of one dashboard request (in-process, django.test.Client; not timed):", flush=True)
        counts = query_counts(
            loaded["reviewer"],
            {"root (city)": None, "a district": district.pk, "a committee": committee.pk, "a branch": branch.pk},
        )
        print(f"gunicorn on {HOST}:{PORT}, 2 workers, Redis {REDIS_URL}:", flush=True)
        served = serve_and_measure(args, env, district.pk)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(url)
        shutil.rmtree(directory, ignore_errors=True)

    root = served["root"]
    met = root["p50"] <= GOAL_P50_MS
    print()
    print(f"| dashboard bench ({args.ratings:,} ratings, {args.brands:,} brands, 1,111 organizations) | figure |")
    print("|---|---:|")
    for name, seconds in jobs.items():
        print(f"| precompute: {name}() | {seconds:.1f} s |")
    print(f"| first GET /dashboard/ after start, empty Redis (curl) | {1000 * served['first']:.0f} ms |")
    print(f"| GET /dashboard/ p50 (wrk, 1 connection, {args.seconds} s) | {root['p50']:.1f} ms |")
    print(f"| GET /dashboard/ p90 | {root['p90']:.1f} ms |")
    print(f"| GET /dashboard/ p99 | {root['p99']:.1f} ms |")
    print(f"| GET /dashboard/ requests/s (1 connection) | {root['rate']:.2f} |")
    print(f"| GET /dashboard/?node=<district {district.pk}> p50 (wrk, 5 s) | {served['district']['p50']:.1f} ms |")
    print(f"| GET /dashboard/export.xlsx (curl, once; again) | {1000 * served['xlsx'][0]:.0f} ms; ", end="")
    print(f"{1000 * served['xlsx'][1]:.0f} ms |")
    for label, (cold, warm) in counts.items():
        print(f"| queries of one request, {label} (first / repeated) | {cold} / {warm} |")
    print(f"\ngoal p50 ≤ {GOAL_P50_MS:.0f} ms: {'met' if met else 'not met'} ({root['p50']:.1f} ms)")
    print("(wall-clock on this machine, shared with other work.)")
    if root["non_2xx"] or root["errors"]:
        print(f"error: {root['non_2xx']} non-2xx responses; {root['errors']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
