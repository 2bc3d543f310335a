"""`make bench-scores`: how score cells and rankings scale on PostgreSQL. Prints figures; not a test.

Creates the database `bench` (dropped at the end unless --keep), loads N ratings over B brands with
COPY (2025-01 to 2026-10), then times in one run:

  R            SELECT brand_id, count(*), avg(overall) … GROUP BY brand_id
  R_cell       the same grouped by brand, month and rater group: the floor of any monthly store
  full         scores_recompute_full(): every cell from the ratings table (best of two runs)
  fold 1       scores_fold_incremental() after one new rating (steady traffic), best of three rounds
  fold 100k    the same after 100k new ratings spread over all brands (2026-11), then once more with
               nothing new (it re-reads the ratings created in the overlap window); best of two rounds,
               the second with 100k ratings in 2026-12
  rankings     GET /api/v1/rankings/?period=all&page_size=20, first read after a fold (best of the three
               rounds), then repeated
  series       GET /api/v1/brands/<code>/scores/, likewise

with each time's ratio to R (and the full job's to R_cell), and the cells each fold wrote. Goals:
full ≤ 2×R_cell; fold after 1 ≤ 0.05×R (1M) and ≤ 0.01×R (10M); fold after 100k ≤ 0.5×R (10M);
rankings first read ≤ 0.05×R (10M), repeated ≤ 0.002×R; series ≤ 0.005×R.

    make bench-scores                        # 1M ratings, 10k brands
    make bench-scores BENCH_ARGS=--10m       # 10M ratings
    make bench-scores BENCH_ARGS="--10m --keep --reuse"   # again, without loading 10M ratings again
    BENCH_DATABASE_URL=postgres://user@host:5432/bench make bench-scores
"""

import argparse
import datetime
import io
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench"
DOMAINS = ["organ", "community", "rural", "soe", "private", "school", "social"]
GROUPS = ["masses", "masses", "masses", "member", "sub_org"]
# Realistic skew: mostly 5s (real deployments report 99.8% satisfaction), a tail of bad reviews.
GRADE_WEIGHTS = [0.02, 0.03, 0.07, 0.23, 0.65]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--brands", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=100_000, help="ratings added before the incremental job")
    parser.add_argument("--10m", dest="ten_million", action="store_true", help="load 10M ratings")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the database a --keep run left (same sizes): drop the ratings it added, skip the load",
    )
    args = parser.parse_args()
    if args.ten_million:
        args.ratings = 10_000_000
    return args


def admin_connection(url: str):
    import psycopg2

    parts = urlparse(url)
    connection = psycopg2.connect(
        dbname="postgres",
        user=parts.username or "postgres",
        password=parts.password,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
    )
    connection.autocommit = True
    return connection, parts.path.lstrip("/")


def recreate_database(url: str) -> None:
    connection, name = admin_connection(url)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def database_exists(url: str) -> bool:
    connection, name = admin_connection(url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cursor.fetchone() is not None
    connection.close()
    return found


def drop_database(url: str) -> None:
    connection, name = admin_connection(url)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


def timed(label: str, function, repeat: int = 1):
    """Best of `repeat` wall-clock runs, in seconds."""
    best, result = None, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    print(f"  {label}: {best:.3f} s", flush=True)
    return best, result


def load_tree_and_brands(brand_count: int) -> list[tuple[int, int]]:
    """10 districts × 100 committees under one city; brands spread over the committees."""
    from brands.models import Brand
    from organizations.models import Organization

    city = Organization.objects.add_root(dict(name="市委", level="city", domain="organ"))
    districts, committees = [], []
    for d in range(10):
        districts.append(
            Organization(
                name=f"区委{d}",
                level="district",
                domain="organ",
                path=Organization._get_path(city.path, 2, d + 1),
                depth=2,
                numchild=100,
            )
        )
        for c in range(100):
            committees.append(
                Organization(
                    name=f"党委{d}-{c}",
                    level="committee",
                    domain=DOMAINS[(d * 100 + c) % len(DOMAINS)],
                    path=Organization._get_path(districts[-1].path, 3, c + 1),
                    depth=3,
                )
            )
    Organization.objects.bulk_create(districts + committees, batch_size=1000)
    Organization.objects.filter(pk=city.pk).update(numchild=10)
    committees = list(Organization.objects.filter(depth=3).order_by("path").values_list("id", flat=True))
    brands = [
        Brand(
            organization_id=committees[i % len(committees)],
            code=f"B{i:06d}",
            name=f"品牌{i}",
            status=Brand.Status.NAMED,
        )
        for i in range(brand_count)
    ]
    Brand.objects.bulk_create(brands, batch_size=2000)
    return list(Brand.objects.order_by("id").values_list("id", "organization_id"))


def copy_ratings(brands, count: int, first_receipt: int, days: list[datetime.date], created_at: str) -> None:
    """COPY `count` ratings in chunks; about 3% flagged, optional dimensions present half the time.

    One device per rating: the database allows one counted rating per device, brand and day.
    """
    from django.db import connection

    columns = (
        "brand_id, organization_id, overall, management, service, quality, rater_group, comment, contact, "
        "channel, receipt, device_hash, ip_hash, state, state_reason, rated_on, created_at, comment_status, "
        "comment_reason, verified"
    )
    rng = random.Random(first_receipt)
    grades = rng.choices(range(1, 6), weights=GRADE_WEIGHTS, k=count)
    chunk = 200_000
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for start in range(0, count, chunk):
            buffer = io.StringIO()
            for i in range(start, min(start + chunk, count)):
                brand_id, organization_id = brands[rng.randrange(len(brands))]
                grade = grades[i]
                dimension = str(min(5, max(1, grade + rng.choice((-1, 0, 0, 1))))) if i % 2 else r"\N"
                receipt = first_receipt + i
                state = "flagged" if receipt % 33 == 0 else "counted"
                day = days[rng.randrange(len(days))]
                buffer.write(
                    f"{brand_id}\t{organization_id}\t{grade}\t{dimension}\t{dimension}\t\\N\t{GROUPS[i % 5]}\t\t\t"
                    f"web\tR{receipt:015d}\td{receipt}\ti{receipt % 70000}\t{state}\t\t{day}\t{created_at}\tnone\t\tf\n"
                )
            buffer.seek(0)
            raw.copy_expert(f"COPY evaluations_evaluation ({columns}) FROM STDIN", buffer)


def main() -> None:
    args = parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # eager tasks, local cache: the bench times the SQL, not a broker
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    print(f"bench: {args.ratings:,} ratings over {args.brands:,} brands, then {args.new:,} new; database {url}")
    if not (args.reuse and database_exists(url)):
        args.reuse = False
        recreate_database(url)
    try:
        import django

        django.setup()
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(url)


def run(args) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from scores import services

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if args.reuse:
        # The loaded ratings are the first ids (COPY into an empty table); later runs added the rest.
        from brands.models import Brand
        from scores.models import ScoreWatermark

        brands = list(Brand.objects.order_by("id").values_list("id", "organization_id"))
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM evaluations_evaluation WHERE id > %s", [args.ratings])
        ScoreWatermark.objects.all().delete()
        print(f"  reused the loaded {args.ratings:,} ratings", flush=True)
    else:
        brands = load_tree_and_brands(args.brands)
        first = datetime.date(2025, 1, 1)
        history = [first + datetime.timedelta(days=d) for d in range((datetime.date(2026, 10, 31) - first).days + 1)]
        copy_ratings(brands, args.ratings, 1, history, "2026-10-31 12:00:00+08")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum would have done by now
    print(f"  loaded in {time.perf_counter() - started:.1f} s (COPY)", flush=True)

    month = "CAST(date_part('year', rated_on::timestamp) * 100 + date_part('month', rated_on::timestamp) AS integer)"

    def raw(group_by: str):
        def query():
            with connection.cursor() as cursor:
                cursor.execute("SET work_mem = '256MB'")  # as the jobs have it
                cursor.execute(
                    f"SELECT {group_by}, count(*), avg(overall) FROM evaluations_evaluation GROUP BY {group_by}"
                )
                return len(cursor.fetchall())

        return query

    raw("brand_id")()  # warm the cache the same way the others are warm
    r, groups = timed("R (GROUP BY brand_id)", raw("brand_id"), repeat=3)
    r_cell, cells = timed("R_cell (GROUP BY brand, month, rater group)", raw(f"brand_id, {month}, rater_group"), 3)
    full, result = timed("full recompute (best of two)", services.scores_recompute_full, repeat=2)
    print(f"    {result}")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE scores_scorecell")
        # The full job wrote the cells table twice over: flush that now, as the checkpointer would have
        # by the time the next ratings arrive, rather than during the folds timed below.
        cursor.execute("CHECKPOINT")

    november = [datetime.date(2026, 11, d) for d in range(1, 21)]
    client = Client()
    code = "B000042"

    def rankings():
        response = client.get("/api/v1/rankings/", {"period": "all", "page_size": 20})
        assert response.status_code == 200, response.content[:300]
        assert len(response.json()["results"]) == 20
        return response.json()

    def series():
        response = client.get(f"/api/v1/brands/{code}/scores/")
        assert response.status_code == 200, response.content[:300]
        return response.json()

    rankings(), series()  # warm the process (imports, connections), not these answers
    # Steady traffic has a fold every 30 s (beat), so the overlap window is bounded by a fold older than
    # it; wait for the full job to be that old, as it would be.
    from django.conf import settings

    time.sleep(settings.SCORE_OVERLAP_SECONDS + 1)
    # …and the beat's fold on the worker's kept connection (CONN_MAX_AGE outlives the 30 s beat) would
    # have run since, with nothing new: it prepares the fold's statement, which later folds reuse.
    services.scores_fold_incremental()

    def fold_after(count: int, receipt: int, label: str, days: list = november) -> tuple[float, dict]:
        copy_ratings(brands, count, receipt, days, "now")
        if count > 1000:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE evaluations_evaluation")
        seconds, outcome = timed(label, services.scores_fold_incremental)
        print(f"    {outcome}")
        return seconds, outcome

    # Steady traffic: one new rating, a fold, then the first reads (which compute what the fold changed);
    # the best of three such rounds, as R is the best of three runs (the background writer and
    # autovacuum share the two cores with the first round).
    rounds = []
    for i in range(3):
        one, one_result = fold_after(1, args.ratings + 1 + i, "fold after 1 new rating")
        cold, _body = timed("rankings API, top 20 of all, first read after the fold", rankings)
        series_cold, _body = timed("series API, first read after the fold", series)
        rounds.append((one, cold, series_cold))
    one, cold, series_cold = (min(column) for column in zip(*rounds, strict=True))
    cached, _body = timed("rankings API, top 20 of all, repeated", rankings, repeat=5)
    series_cached, _body = timed("series API, repeated", series, repeat=5)
    # Then 100k new ratings in November, and in a second round 100k in December: the same work (every
    # brand's new month cell, and its quarter, year and all-time cells changed); the best of the two.
    december = [datetime.date(2026, 12, d) for d in range(1, 21)]
    rounds = []
    for i, days in enumerate((november, december)):
        if i:  # as before the first round: the beat's fold past the window, the checkpointer's flush
            time.sleep(settings.SCORE_OVERLAP_SECONDS + 1)
            services.scores_fold_incremental()
            with connection.cursor() as cursor:
                cursor.execute("CHECKPOINT")
        receipt = args.ratings + 4 + i * args.new
        many, many_result = fold_after(args.new, receipt, f"fold after {args.new:,} new ratings", days)
        label = "fold again, nothing new (re-reads the overlap window)"
        idle, idle_result = timed(label, services.scores_fold_incremental)
        print(f"    {idle_result}")
        rounds.append((many, many_result, idle, idle_result))
    many, many_result, _idle, _result = min(rounds, key=lambda round: round[0])
    _many, _result, idle, idle_result = min(rounds, key=lambda round: round[2])

    print()
    print(
        f"| step ({args.ratings:,} ratings, {args.brands:,} brands) | seconds | × R | × R_cell | cells written | goal |"
    )
    print("|---|---:|---:|---:|---:|---|")
    ten = args.ratings >= 10_000_000
    rows = [
        ("R: GROUP BY brand_id", r, "", ""),
        ("R_cell: GROUP BY brand, month, rater group", r_cell, "", ""),
        ("full recompute", full, result["cells"], "≤ 2×R_cell"),
        ("fold after 1 new rating", one, one_result["cells"], "≤ 0.01×R" if ten else "≤ 0.05×R"),
        (f"fold after {args.new:,} new ratings", many, many_result["cells"], "≤ 0.5×R (10M)"),
        ("fold again, nothing new", idle, idle_result["cells"], ""),
        ("rankings API top 20 of all, first read after a fold", cold, "", "≤ 0.05×R (10M)"),
        ("rankings API top 20 of all, repeated", cached, "", "≤ 0.002×R"),
        ("series API, first read after a fold", series_cold, "", "≤ 0.005×R"),
        ("series API, repeated", series_cached, "", "≤ 0.005×R"),
    ]
    for label, seconds, written, goal in rows:
        print(f"| {label} | {seconds:.4f} | {seconds / r:.4f} | {seconds / r_cell:.3f} | {written} | {goal} |")
    print(f"\n(R returned {groups:,} groups, R_cell {cells:,}; wall-clock on this machine, shared with other work.)")


if __name__ == "__main__":
    main()
