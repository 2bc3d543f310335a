"""Scores and rankings: ratings folded into `BrandScore`, in the database, incrementally or in full.

One pipeline serves both jobs, so they give identical tables by construction. Cells are built in a
temporary table (no indexes, no WAL), then each affected period is written once:

1. month cells per rater group are aggregated from the ratings table (only counted ratings);
2. month cells for all raters (`rater_group` "") are the sum of the group cells;
3. quarters are sums of months, years of quarters, all time of years;
4. each affected period is deleted and inserted again with its per-row statistics, Bayesian score
   and three ranks (window functions) in one INSERT. The period mean C moves with every rating, so
   a whole period is re-scored, never one brand. On PostgreSQL the full job inserts into a new,
   unindexed table, builds its indexes once and swaps it in (`_write_all_and_swap`).

The full job runs the pipeline over everything. The incremental job first collects the dirty
(brand, month) cells — ratings past the evaluation watermark, ratings created in the last
``SCORE_OVERLAP_SECONDS`` (an id that committed late is never missed), and ratings whose state
changed past the state-change watermark — rebuilds only those cells and the coarser cells they feed
(the unchanged finer cells come from the table), and copies the untouched cells of the affected
periods so they are ranked as a whole. Rebuilding a cell from the ratings table, rather than adding
deltas, makes every run idempotent. A brand revoked since the last job (past the brand-transition
watermark) keeps its counts but loses its places in every period it has cells in, and a brand whose
organization moved or changed domain changes scope in all of them, so such a fold runs the full
pipeline instead.

Each job is one transaction, serialized by a PostgreSQL advisory lock (on SQLite the IMMEDIATE
transaction already holds the database write lock): readers see the previous ranking until the
commit and a failure rolls everything back. Submissions never touch a shared row; they only ask
for a debounced refresh (`request_refresh`).
"""

from __future__ import annotations

import math
import time
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from brands.models import Brand, BrandTransition
from evaluations import integrity
from evaluations.models import BrandScore, Evaluation, EvaluationStateChange, ScoreWatermark

# Any constant shared by every process; it names "the scoring job" among advisory locks.
ADVISORY_LOCK_KEY = 5_021_126
REFRESH_PENDING_KEY = "scores:refresh-pending"
FOLD_STARTED_KEY = "scores:fold-started"
# Deleted when a job commits: caches of reads over `BrandScore` key on its value (see `scores_version`).
SCORES_VERSION_KEY = "scores:version"
Z = 1.96

SCORE = "evaluations_brandscore"
DIRTY = "evaluations_scoredirtymonth"
RATINGS = "evaluations_evaluation"
STATE_CHANGES = "evaluations_evaluationstatechange"

COUNT_COLUMNS = [
    "n",
    "grade_1",
    "grade_2",
    "grade_3",
    "grade_4",
    "grade_5",
    "overall_sum",
    "management_n",
    "management_sum",
    "service_n",
    "service_sum",
    "quality_n",
    "quality_sum",
    "bad_n",
]
DERIVED_COLUMNS = ["overall_mean", "management_mean", "service_mean", "quality_mean", "bad_rate", "wilson", "net_score"]
INSERT_COLUMNS = [
    "brand_id",
    "organization_id",
    "parent_organization_id",
    "domain",
    "kind",
    "period",
    "rater_group",
    *COUNT_COLUMNS,
    *DERIVED_COLUMNS,
    "computed_at",
]


# --- SQL building blocks ---------------------------------------------------------------------------


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _bytes(expression: str) -> str:
    """Compare text byte-wise: as SQLite does, and on PostgreSQL much faster to sort than a locale."""
    return f'{expression} COLLATE "C"' if _is_postgresql() else expression


def _float(expression: str) -> str:
    return f"CAST({expression} AS DOUBLE PRECISION)"


def _month_key(column: str) -> str:
    if _is_postgresql():
        return f"to_char({column}, 'YYYY-MM')"
    return f"strftime('%%Y-%%m', {column})"


def _month_bounds(column: str) -> tuple[str, str]:
    if _is_postgresql():
        start = f"date_trunc('month', {column})"
        return f"CAST({start} AS date)", f"CAST({start} + interval '1 month' AS date)"
    return f"date({column}, 'start of month')", f"date({column}, 'start of month', '+1 month')"


def _quarter_of(month_key: str) -> str:
    """'2026-11' → '2026-Q4', in SQL that both SQLite and PostgreSQL accept."""
    return f"(substr({month_key}, 1, 4) || '-Q' || CAST((CAST(substr({month_key}, 6, 2) AS integer) + 2) / 3 AS text))"


def _year_of(month_key: str) -> str:
    return f"substr({month_key}, 1, 4)"


def _derived(a: str) -> list[str]:
    """SQL for the per-row statistics (DERIVED_COLUMNS, in order), from the counts of the row aliased `a`."""
    n = _float(f"{a}.n")
    p = f"({_float(f'{a}.grade_4 + {a}.grade_5')} / {n})"
    z2 = Z * Z
    wilson = f"(({p} + {z2 / 2} / {n} - {Z} * sqrt({p} * (1 - {p}) / {n} + {z2 / 4} / ({n} * {n}))) / (1 + {z2} / {n}))"

    def mean(dimension: str) -> str:
        count = f"{a}.{dimension}_n"
        return f"CASE WHEN {count} > 0 THEN {_float(f'{a}.{dimension}_sum')} / {count} END"

    return [
        f"{_float(f'{a}.overall_sum')} / {n}",
        mean("management"),
        mean("service"),
        mean("quality"),
        f"{_float(f'{a}.bad_n')} / {n}",
        # p = 0 has lower bound 0 exactly; the formula would leave rounding noise there.
        f"CASE WHEN {a}.grade_4 + {a}.grade_5 = 0 THEN 0.0 ELSE {wilson} END",
        f"100.0 * {_float(f'{a}.grade_5 - {a}.grade_1 - {a}.grade_2')} / {n}",
    ]


def _execute(sql: str, params: list | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.rowcount


def _now_param():
    return connection.ops.adapt_datetimefield_value(timezone.now())


# --- the pipeline ----------------------------------------------------------------------------------

STAGE = "score_stage"
CELL_COLUMNS = ["brand_id", "organization_id", "parent_organization_id", "domain", "kind", "period", "rater_group"]
STAGE_COLUMNS = CELL_COLUMNS + COUNT_COLUMNS
# Each coarser period is the sum of the next finer one: quarters of months, years of quarters, all of years.
ROLLUPS = [
    (BrandScore.Kind.QUARTER, BrandScore.Kind.MONTH),
    (BrandScore.Kind.YEAR, BrandScore.Kind.QUARTER),
    (BrandScore.Kind.ALL, BrandScore.Kind.YEAR),
]


def _key_from_month(kind: str, month: str) -> str:
    """SQL for the key of the `kind` period that contains the month key `month`."""
    return {
        BrandScore.Kind.MONTH: month,
        BrandScore.Kind.QUARTER: _quarter_of(month),
        BrandScore.Kind.YEAR: _year_of(month),
        BrandScore.Kind.ALL: "'all'",
    }[kind]


def _key_from_finer(kind: str, period: str) -> str:
    """SQL for the key of the `kind` period that contains the next finer period `period`."""
    return {
        BrandScore.Kind.QUARTER: _quarter_of(period),
        BrandScore.Kind.YEAR: f"substr({period}, 1, 4)",
        BrandScore.Kind.ALL: "'all'",
    }[kind]


def _dirty_cell(kind: str, alias: str) -> str:
    """SQL: the `kind` cell in row `alias` is fed by a dirty month, so it is being rebuilt."""
    match = "" if kind == BrandScore.Kind.ALL else f" AND {_key_from_month(kind, 'd.month')} = {alias}.period"
    return f"EXISTS (SELECT 1 FROM {DIRTY} d WHERE d.brand_id = {alias}.brand_id{match})"


def _create_stage() -> None:
    """A temporary table (no indexes, no WAL) where the cells are built before one final write."""
    _execute(f"DROP TABLE IF EXISTS {STAGE}")
    counts = ", ".join(f"{column} integer NOT NULL" for column in COUNT_COLUMNS)
    suffix = " ON COMMIT DROP" if _is_postgresql() else ""
    cell_id = "cell_id bigserial PRIMARY KEY" if _is_postgresql() else "cell_id integer PRIMARY KEY"
    _execute(
        f"CREATE TEMPORARY TABLE {STAGE} ({cell_id}, brand_id bigint NOT NULL, organization_id bigint NOT NULL, "
        f"parent_organization_id bigint, domain varchar(20) NOT NULL, kind varchar(7) NOT NULL, "
        f"period varchar(7) NOT NULL, rater_group varchar(10) NOT NULL, {counts}){suffix}"
    )


# Joined to a brand `b`: its organization `o` and that one's parent `p` (treebeard paths: 4 characters a level).
OWNERS = """
    JOIN organizations_organization o ON o.id = b.organization_id
    LEFT JOIN organizations_organization p ON length(o.path) > 4 AND p.path = substr(o.path, 1, length(o.path) - 4)
"""


def _stage(select_sql: str, params: list | None = None) -> int:
    return _execute(f"INSERT INTO {STAGE} ({', '.join(STAGE_COLUMNS)}) {select_sql}", params)


def _month_range(month: str) -> list:
    """The first day of the month key `month` and of the month after, as query parameters."""
    year, number = int(month[:4]), int(month[5:7])
    start, end = date(year, number, 1), date(year + number // 12, number % 12 + 1, 1)
    return [connection.ops.adapt_datefield_value(start), connection.ops.adapt_datefield_value(end)]


def _stage_group_months(*, dirty_months: list[str] | None = None) -> int:
    """Month cells per rater group from the counted ratings (only the dirty cells, given their months).

    Per rating, only what cannot be derived is aggregated: the five grade counts (n, the overall sum
    and the bad reviews follow from them) and the optional dimensions. PostgreSQL groups on the month's
    first day, much cheaper per rating than formatting its key, which is formatted per cell instead.
    """
    if _is_postgresql():
        month, month_key = "date_trunc('month', CAST(e.rated_on AS timestamp))", "to_char(a.month, 'YYYY-MM')"
    else:
        month, month_key = _month_key("e.rated_on"), "a.month"
    join, params = "", [Evaluation.State.COUNTED]
    if dirty_months is not None:
        # The months' date ranges, as constants, tell the planner how few ratings qualify: it then reads
        # them through the (brand, day) index rather than joining the dirty cells against every rating.
        ranges = " OR ".join(["(e.rated_on >= %s AND e.rated_on < %s)"] * len(dirty_months))
        join = (
            f"JOIN {DIRTY} d ON d.brand_id = e.brand_id AND e.rated_on >= d.month_start AND e.rated_on < d.month_end"
            f" AND ({ranges})"
        )
        params = [bound for month_key in dirty_months for bound in _month_range(month_key)] + params
    grades = ", ".join(f"SUM(CASE WHEN e.overall = {g} THEN 1 ELSE 0 END) AS grade_{g}" for g in range(1, 6))
    dimensions = ", ".join(
        f"COUNT(e.{d}) AS {d}_n, COALESCE(SUM(e.{d}), 0) AS {d}_sum" for d in ("management", "service", "quality")
    )
    derived = {
        "n": " + ".join(f"a.grade_{g}" for g in range(1, 6)),
        "overall_sum": " + ".join(f"{g} * a.grade_{g}" for g in range(1, 6)),
        "bad_n": "a.grade_1 + a.grade_2",
    }
    counts = ", ".join(derived.get(c, f"a.{c}") for c in COUNT_COLUMNS)
    return _stage(
        f"""
        SELECT a.brand_id, b.organization_id, p.id, o.domain, 'month', {month_key}, a.rater_group, {counts}
        FROM (
            SELECT e.brand_id AS brand_id, {month} AS month, e.rater_group AS rater_group, {grades}, {dimensions}
            FROM {RATINGS} e {join}
            WHERE e.state = %s
            GROUP BY e.brand_id, {month}, e.rater_group
        ) a
        JOIN brands_brand b ON b.id = a.brand_id {OWNERS}
        """,
        params,
    )


def _sum_into_stage(*, source: str, target: str, group: str, group_by: list[str], params: list) -> int:
    """Sum the cells of `source` into the cells keyed by `target`; `params`: the kind, then those of `source`."""
    sums = ", ".join(f"SUM(m.{c})" for c in COUNT_COLUMNS)
    return _stage(
        f"""
        SELECT m.brand_id, MAX(m.organization_id), MAX(m.parent_organization_id), MAX(m.domain), %s,
               {target}, {group}, {sums}
        FROM ({source}) m
        GROUP BY {", ".join(group_by)}
        """,
        params,
    )


def _stage_all_raters_months() -> int:
    """All-raters month cells: the sum of the rater-group month cells just staged."""
    source = f"SELECT * FROM {STAGE} WHERE kind = 'month' AND rater_group <> ''"
    return _sum_into_stage(
        source=source,
        target="m.period",
        group="''",
        group_by=["m.brand_id", "m.period"],
        params=[BrandScore.Kind.MONTH],
    )


def _feeding_periods(kind: str, months: list[str]) -> list[str] | None:
    """The finer periods that may feed a dirty `kind` cell: the months of the dirty quarters, the quarters
    of the dirty years; None for all time (every year feeds it)."""
    if kind == BrandScore.Kind.QUARTER:
        quarters = {(month[:4], (int(month[5:7]) + 2) // 3) for month in months}
        return sorted(f"{year}-{3 * (quarter - 1) + k:02d}" for year, quarter in quarters for k in (1, 2, 3))
    if kind == BrandScore.Kind.YEAR:
        return sorted(f"{year}-Q{quarter}" for year in {month[:4] for month in months} for quarter in (1, 2, 3, 4))
    return None


def _stage_rollup(*, kind: str, finer: str, dirty_months: list[str] | None = None) -> int:
    """Cells of `kind` summed from the `finer` cells; with `dirty_months`, only the cells they feed.

    A dirty cell's finer cells are the rebuilt ones (staged) plus the unchanged ones still in the table
    (looked up by period through the unique cell index where the periods can be listed).
    """
    columns = ", ".join(STAGE_COLUMNS)
    source = f"SELECT {columns} FROM {STAGE} WHERE kind = '{finer}'"
    params: list = [kind]
    if dirty_months is not None:
        wanted = f"{_key_from_month(kind, 'd.month')} = {_key_from_finer(kind, 'x.period')}"
        feeding = _feeding_periods(kind, dirty_months)
        in_periods = f" AND x.period IN ({', '.join(['%s'] * len(feeding))})" if feeding else ""
        source += (
            f" UNION ALL SELECT {columns} FROM {SCORE} x WHERE x.kind = '{finer}'{in_periods}"
            f" AND NOT {_dirty_cell(finer, 'x')}"
            f" AND EXISTS (SELECT 1 FROM {DIRTY} d WHERE d.brand_id = x.brand_id AND {wanted})"
        )
        params += feeding or []
    target = _key_from_finer(kind, "m.period")
    # PostgreSQL refuses a constant ('all') in GROUP BY.
    group_by = ["m.brand_id", "m.rater_group"] + ([] if kind == BrandScore.Kind.ALL else [target])
    return _sum_into_stage(source=source, target=target, group="m.rater_group", group_by=group_by, params=params)


def _stage_unchanged(periods: list[str]) -> int:
    """Copy the cells of the affected periods that no dirty month feeds: a period is ranked as a whole."""
    rebuilt = " UNION ".join(
        f"SELECT d.brand_id AS brand_id, {_key_from_month(kind, 'd.month')} AS period FROM {DIRTY} d"
        for kind in BrandScore.Kind.values
    )
    placeholders = ", ".join(["%s"] * len(periods))
    return _stage(
        f"SELECT {', '.join(f'x.{c}' for c in STAGE_COLUMNS)} FROM {SCORE} x "
        f"LEFT JOIN ({rebuilt}) r ON r.brand_id = x.brand_id AND r.period = x.period "
        f"WHERE x.period IN ({placeholders}) AND r.brand_id IS NULL",
        list(periods),
    )


def _write_from_stage(periods: list[str] | None, *, table: str = SCORE) -> int:
    """Replace the staged periods in `table`: per-row statistics, Bayesian score and ranks in one INSERT.

    The period mean C (per rater group) comes from the staged cells, which are complete for each period.
    `periods` None replaces every row; a `table` other than `BrandScore` is a new, empty one.
    """
    if _is_postgresql():
        # Statistics on the staged cells: the planner otherwise guesses the period means are many rows.
        _execute(f"ANALYZE {STAGE}")
    if table == SCORE and periods is None:
        _execute(f"DELETE FROM {SCORE}")
    elif table == SCORE:
        _execute(f"DELETE FROM {SCORE} WHERE period IN ({', '.join(['%s'] * len(periods))})", list(periods))
    m = float(settings.SCORE_PRIOR_WEIGHT)
    # Only public brands take a place; a revoked brand keeps its counts but drops out of the ranking.
    public = ", ".join(f"'{status}'" for status in Brand.PUBLIC_STATUSES)

    derived = _derived("x")
    wilson = derived[DERIVED_COLUMNS.index("wilson")]
    score = f"(x.overall_sum + {_float('%s')} * c.mean) / (x.n + {_float('%s')})"
    columns = INSERT_COLUMNS + ["score", '"rank"', "rank_domain", "rank_parent"]
    # Only the ranked rows (enough ratings, public brand) are sorted, over narrow rows (keys and sort
    # columns), and joined back. Each (period, rater group) is numbered once (`part`), so sorts compare
    # an integer rather than two strings. Only the overall order sorts on the full key; the domain and
    # parent ranks number the rows of their partition in that order (one integer to compare): the same places.
    sql = f"""
        INSERT INTO {table} ({", ".join(columns)})
        WITH c AS (
            SELECT period, rater_group, {_float("SUM(overall_sum)")} / SUM(n) AS mean,
                   ROW_NUMBER() OVER (ORDER BY {_bytes("period")}, {_bytes("rater_group")}) AS part
            FROM {STAGE} GROUP BY period, rater_group
        ), s AS (
            SELECT x.cell_id, c.part, x.domain, x.parent_organization_id, x.n, b.code,
                   {wilson} AS wilson, {score} AS score
            FROM {STAGE} x
            JOIN c ON c.period = x.period AND c.rater_group = x.rater_group
            JOIN brands_brand b ON b.id = x.brand_id
            WHERE x.n >= %s AND b.status IN ({public})
        ), o AS (
            SELECT s.cell_id, s.part, s.domain, s.parent_organization_id,
                   ROW_NUMBER() OVER (
                       PARTITION BY s.part ORDER BY s.score DESC, s.wilson DESC, s.n DESC, {_bytes("s.code")} ASC
                   ) AS place
            FROM s
        ), r AS (
            SELECT o.cell_id, o.place AS rank_all,
                   ROW_NUMBER() OVER (PARTITION BY o.part, {_bytes("o.domain")} ORDER BY o.place) AS rank_domain,
                   ROW_NUMBER() OVER (PARTITION BY o.part, o.parent_organization_id ORDER BY o.place) AS rank_parent
            FROM o
        )
        SELECT {", ".join(f"x.{c}" for c in STAGE_COLUMNS)},
               {", ".join(f"{sql} AS {name}" for sql, name in zip(derived, DERIVED_COLUMNS, strict=True))},
               %s AS computed_at, {score} AS score, r.rank_all, r.rank_domain, r.rank_parent
        FROM {STAGE} x
        JOIN c ON c.period = x.period AND c.rater_group = x.rater_group
        LEFT JOIN r ON r.cell_id = x.cell_id
    """
    return _execute(sql, [m, m, int(settings.SCORE_MIN_RATINGS), _now_param(), m, m])


BUILD = "evaluations_brandscore_build"


def _fetch(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _write_all_and_swap() -> None:
    """PostgreSQL: build every row in a new table, index it, then put it in place of `BrandScore`.

    Writing into an unindexed table and building each index once afterwards is several times faster
    than updating the indexes row by row (and leaves no dead rows behind). The new table takes the
    old one's columns, defaults, checks, identity, every index and constraint under its own name,
    and the privileges granted on it, read from the catalog, so migrations find the schema they made.
    Readers keep the old table until the commit (the DROP waits for the ones still reading); the ones
    that arrive after read the new one.
    """
    quote = connection.ops.quote_name
    _execute(f"DROP TABLE IF EXISTS {BUILD}")
    _execute(f"CREATE TABLE {BUILD} (LIKE {SCORE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)")
    _write_from_stage(None, table=BUILD)
    constraints = _fetch(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'x') ORDER BY contype, conname",
        [SCORE],
    )
    indexes = _fetch(
        "SELECT c.relname, x.indisunique, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint k WHERE k.conrelid = x.indrelid AND k.conindid = x.indexrelid) "
        "ORDER BY c.relname",
        [SCORE],
    )
    (sequence,) = _fetch("SELECT pg_get_serial_sequence(%s, 'id')", [SCORE])[0]
    renames = []
    for i, (name, definition) in enumerate(constraints):
        _execute(f"ALTER TABLE {BUILD} ADD CONSTRAINT brandscore_swap_c{i} {definition}")
        renames.append(f"ALTER TABLE {SCORE} RENAME CONSTRAINT brandscore_swap_c{i} TO {quote(name)}")
    for i, (name, unique, definition) in enumerate(indexes):
        method = definition.split(" USING ", 1)[1]
        _execute(f"CREATE {'UNIQUE ' if unique else ''}INDEX brandscore_swap_i{i} ON {BUILD} USING {method}")
        renames.append(f"ALTER INDEX brandscore_swap_i{i} RENAME TO {quote(name)}")
    # Privileges granted on the old table (a read-only role for reports, say) go to the new one.
    grants = _fetch(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, "
        "a.privilege_type, a.is_grantable FROM pg_class c, aclexplode(c.relacl) a "
        "WHERE c.oid = %s::regclass AND a.grantee <> c.relowner ORDER BY 1, 2",
        [SCORE],
    )
    for grantee, privilege, grantable in grants:
        _execute(f"GRANT {privilege} ON {BUILD} TO {grantee}{' WITH GRANT OPTION' if grantable else ''}")
    (new_sequence,) = _fetch("SELECT pg_get_serial_sequence(%s, 'id')", [BUILD])[0]
    _execute(f"DROP TABLE {SCORE}")
    _execute(f"ALTER TABLE {BUILD} RENAME TO {SCORE}")
    for statement in renames:
        _execute(statement)
    if sequence and new_sequence:
        _execute(f"ALTER SEQUENCE {new_sequence} RENAME TO {quote(sequence.rsplit('.', 1)[-1].strip(chr(34)))}")
    # The planner's statistics went with the old table; readers should not wait for autovacuum.
    _execute(f"ANALYZE {SCORE}")


def _lock() -> None:
    """Serialize scoring jobs: a second job waits for the first to commit, then sees its result."""
    if _is_postgresql():
        _execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        # The window sorts of a full rerank spill to disk at the default 4 MB.
        _execute("SET LOCAL work_mem = '256MB'")
        # Index builds of the full job's new table sort in memory rather than in temporary files.
        _execute("SET LOCAL maintenance_work_mem = '256MB'")
        # Compiling these one-off statements costs more than it saves.
        _execute("SET LOCAL jit = off")
    # SQLite: the settings open every transaction with BEGIN IMMEDIATE, which takes the database
    # write lock for the whole job; a second job waits for it (up to the connection timeout).


def _last_id(model) -> int:
    return model.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _watermark() -> tuple[ScoreWatermark, dict[str, int]]:
    """The watermark row, locked, and the newest ids this job will have folded in (by watermark field)."""
    mark, _created = ScoreWatermark.objects.select_for_update().get_or_create(pk=1)
    latest = {
        "last_evaluation_id": _last_id(Evaluation),
        "last_state_change_id": _last_id(EvaluationStateChange),
        "last_brand_transition_id": _last_id(BrandTransition),
    }
    return mark, latest


def _advance(mark: ScoreWatermark, latest: dict[str, int]) -> None:
    for field, last in latest.items():
        setattr(mark, field, max(getattr(mark, field), last))
    mark.updated_at = timezone.now()
    mark.save()


def _ranked_brands_changed(mark: ScoreWatermark) -> bool:
    """Whether a brand with scores entered or left the public statuses (was revoked) since the last job.

    Its cells keep their counts but take or lose their places, so every period it has cells in is
    re-ranked; the brand has an all-time cell if it has any, found through the unique cell index.
    """
    public = Q(from_status__in=Brand.PUBLIC_STATUSES) ^ Q(to_status__in=Brand.PUBLIC_STATUSES)
    brands = BrandTransition.objects.filter(public, id__gt=mark.last_brand_transition_id).values("brand_id")
    return BrandScore.objects.filter(period="all", rater_group="", brand_id__in=brands).exists()


def _owners_changed() -> bool:
    """Whether a scored brand's organization, that organization's domain or its parent changed since the
    last job (an organization moved or edited in the admin): every row of the brand names them, and
    the domain and parent ranks partition on them. Checked on the all-time cells, one per scored brand."""
    return bool(
        _fetch(
            f"""
            SELECT 1 FROM {SCORE} x JOIN brands_brand b ON b.id = x.brand_id {OWNERS}
            WHERE x.period = 'all' AND x.rater_group = ''
              AND (x.organization_id <> b.organization_id OR x.domain <> o.domain
                   OR COALESCE(x.parent_organization_id, 0) <> COALESCE(p.id, 0))
            LIMIT 1
            """
        )
    )


def _mark_dirty(mark: ScoreWatermark) -> int:
    since = connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(seconds=settings.SCORE_OVERLAP_SECONDS))
    start, end = _month_bounds("t.rated_on")
    _execute(f"DELETE FROM {DIRTY}")
    return _execute(
        f"""
        INSERT INTO {DIRTY} (brand_id, month, month_start, month_end)
        SELECT DISTINCT t.brand_id, {_month_key("t.rated_on")}, {start}, {end}
        FROM (
            SELECT e.brand_id AS brand_id, e.rated_on AS rated_on FROM {RATINGS} e WHERE e.id > %s
            UNION SELECT e.brand_id, e.rated_on FROM {RATINGS} e WHERE e.created_at >= %s
            UNION SELECT e.brand_id, e.rated_on FROM {STATE_CHANGES} sc
                  JOIN {RATINGS} e ON e.id = sc.evaluation_id WHERE sc.id > %s
            UNION SELECT e.brand_id, e.rated_on FROM {STATE_CHANGES} sc
                  JOIN {RATINGS} e ON e.id = sc.evaluation_id WHERE sc.created_at >= %s
        ) t
        """,
        [mark.last_evaluation_id, since, mark.last_state_change_id, since],
    )


def _keep_changed_months(months: list[str]) -> list[str]:
    """Forget the dirty months whose rebuilt cells equal the stored ones, and their staged cells.

    Nothing a month feeds (its quarter, year, all time, the period means, the ranks) can change
    unless its cells do, so a fold that finds only such months writes nothing. That is the common
    case of a rating seen again because it is still inside the overlap window. Returns the months
    still dirty.
    """
    columns = ", ".join(STAGE_COLUMNS)
    staged = f"SELECT {columns} FROM {STAGE} WHERE kind = 'month'"
    stored = (
        f"SELECT {', '.join(f'x.{c}' for c in STAGE_COLUMNS)} FROM {SCORE} x "
        f"JOIN {DIRTY} d ON d.brand_id = x.brand_id AND d.month = x.period "
        f"WHERE x.kind = 'month' AND x.period IN ({', '.join(['%s'] * len(months))})"
    )
    changed = (
        f"SELECT c1.brand_id, c1.period FROM ({staged} EXCEPT {stored}) c1 "
        f"UNION SELECT c2.brand_id, c2.period FROM ({stored} EXCEPT {staged}) c2"
    )
    _execute(f"DELETE FROM {DIRTY} WHERE (brand_id, month) NOT IN ({changed})", months + months)
    _execute(
        f"DELETE FROM {STAGE} WHERE kind = 'month' AND NOT EXISTS "
        f"(SELECT 1 FROM {DIRTY} d WHERE d.brand_id = {STAGE}.brand_id AND d.month = {STAGE}.period)"
    )
    return _dirty_months()


def _dirty_months() -> list[str]:
    return sorted(row[0] for row in _fetch(f"SELECT DISTINCT month FROM {DIRTY}"))


def _dirty_periods(months: list[str]) -> list[str]:
    periods = set(months) | {"all"}
    for month in months:
        periods |= {month[:4], f"{month[:4]}-Q{(int(month[5:7]) + 2) // 3}"}
    return sorted(periods)


# --- services ----------------------------------------------------------------------------------------


def _rebuild_all() -> int:
    """The full pipeline: every cell from the ratings table, every period written again. Returns the cells."""
    _create_stage()
    cells = _stage_group_months() + _stage_all_raters_months()
    for kind, finer in ROLLUPS:
        cells += _stage_rollup(kind=kind, finer=finer)
    if _is_postgresql():
        _write_all_and_swap()
    else:
        _write_from_stage(None)
    _execute(f"DROP TABLE {STAGE}")
    transaction.on_commit(_new_version)
    return cells


@transaction.atomic
def scores_fold_incremental() -> dict[str, int]:
    """Fold new ratings and state changes into `BrandScore`; equal to `scores_recompute_full` afterwards.

    A revoked brand re-ranks every period it has cells in, and a moved organization changes the scopes
    of every row of its brands: such a fold rebuilds everything (`rebuilt` 1).
    """
    _lock()
    mark, latest = _watermark()
    if _ranked_brands_changed(mark) or _owners_changed():
        cells = _rebuild_all()
        _advance(mark, latest)
        return {"dirty_months": 0, "cells": cells, "periods": _period_count(), "rebuilt": 1}
    dirty = _mark_dirty(mark)
    result = {"dirty_months": dirty, "cells": 0, "periods": 0, "rebuilt": 0}
    if dirty:
        if _is_postgresql():
            # Its size decides between reading the dirty months' ratings by index or scanning them all.
            _execute(f"ANALYZE {DIRTY}")
        _create_stage()
        months = _dirty_months()
        cells = _stage_group_months(dirty_months=months) + _stage_all_raters_months()
        months = _keep_changed_months(months)
        if not months:
            # Only ratings seen again in the overlap window, or state changes that count the same.
            _execute(f"DROP TABLE {STAGE}")
            _advance(mark, latest)
            return result
        for kind, finer in ROLLUPS:
            cells += _stage_rollup(kind=kind, finer=finer, dirty_months=months)
        periods = _dirty_periods(months)
        _stage_unchanged(periods)
        _write_from_stage(periods)
        _execute(f"DROP TABLE {STAGE}")
        _execute(f"DELETE FROM {DIRTY}")
        result.update(cells=cells, periods=len(periods))
        transaction.on_commit(_new_version)
    _advance(mark, latest)
    return result


@transaction.atomic
def scores_recompute_full() -> dict[str, int]:
    """Rebuild every period of `BrandScore` from the ratings table, in one transaction."""
    _lock()
    mark, latest = _watermark()
    cells = _rebuild_all()
    _advance(mark, latest)
    return {"cells": cells, "periods": _period_count()}


def _period_count() -> int:
    return BrandScore.objects.values("period").distinct().count()


def scores_version() -> str:
    """A token that changes whenever a scoring job commits."""
    return cache.get_or_set(SCORES_VERSION_KEY, lambda: uuid.uuid4().hex, None)


def _new_version() -> None:
    cache.delete(SCORES_VERSION_KEY)


def request_refresh() -> bool:
    """Ask for an incremental fold soon; call it after a rating or a state change commits.

    Debounced: only the first request in a window enqueues the job (a few seconds later, and no
    sooner than ``SCORE_REFRESH_MIN_INTERVAL_SECONDS`` after the previous fold started), so a burst
    of submissions is one job. The job clears the key when it starts, so a rating committed after
    that start gets a job of its own and none is left unfolded. Returns whether a job was enqueued.
    With tasks eager (no REDIS_URL) the job runs at once, in the caller.
    """
    from evaluations.tasks import scores_fold

    countdown = settings.SCORE_REFRESH_DELAY_SECONDS
    last_started = cache.get(FOLD_STARTED_KEY)
    if last_started is not None:
        next_allowed = last_started + settings.SCORE_REFRESH_MIN_INTERVAL_SECONDS - time.time()
        countdown = max(countdown, math.ceil(next_allowed))
    # The key outlives the countdown so a lost job only delays folding until the key expires.
    if not integrity.fast_add(REFRESH_PENDING_KEY, 1, timeout=countdown + 60):
        return False
    scores_fold.apply_async(countdown=countdown)
    return True


def refresh_started() -> None:
    """Called by the job as it starts: requests from now on enqueue a new job, spaced from this one."""
    cache.set(FOLD_STARTED_KEY, time.time(), 24 * 3600)
    cache.delete(REFRESH_PENDING_KEY)
