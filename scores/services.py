"""The scoring jobs: ratings folded into score cells, incrementally (`scores_fold_incremental`) or in full
(`scores_recompute_full`). Both write the same cells by the same statements, so they agree.

Months are aggregated from the counted ratings; quarters are sums of months, years of quarters, all
time of years. A period code's finer periods are one contiguous range of the (brand, period) key
(`scores.periods`), so each sum is an index range read.

The incremental fold finds the dirty (brand, month) cells — ratings past the watermark, ratings created
in the last ``SCORE_OVERLAP_SECONDS`` (an id that committed late is never missed), and ratings whose
state changed since — rebuilds them from the ratings table, and writes only the cells whose counts
changed; then the same for the quarters, years and all-time cells above the months that changed. A
cell left with no rating is deleted. Rebuilding from the ratings rather than adding deltas makes every
run idempotent. Nothing depends on other brands, so a fold after one rating writes at most that brand's
four cells.

Each job is one transaction serialized by a PostgreSQL advisory lock (on SQLite the IMMEDIATE
transaction holds the database write lock): readers see the previous cells until the commit, and a
failure rolls everything back. Submissions never touch a shared row; they ask for a debounced fold
(`evaluations.refresh`).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from evaluations.models import Evaluation, EvaluationStateChange
from scores import periods
from scores.models import COUNT_COLUMNS, GROUPS, MEASURES, ScoreCell, ScoreDirtyMonth, ScoreWatermark

# Any constant shared by every process; it names "the scoring job" among advisory locks.
ADVISORY_LOCK_KEY = 5_021_126
# Caches of reads over the cells key on these (see `scores_version`): the generation changes when
# the full job commits, a period's token when a fold changes one of its cells.
GENERATION_KEY = "scores:generation"
PERIOD_TOKEN_KEY = "scores:period:{code}"

CELLS = ScoreCell._meta.db_table
BUILD = f"{CELLS}_build"
DIRTY = ScoreDirtyMonth._meta.db_table
RATINGS = Evaluation._meta.db_table
STATE_CHANGES = EvaluationStateChange._meta.db_table
KEY_COLUMNS = ("brand_id", "period")
COLUMNS = KEY_COLUMNS + COUNT_COLUMNS
# Parameters a statement may carry; SQLite refuses more than 32766 variables.
BATCH = 2000


# --- SQL building blocks ---------------------------------------------------------------------------


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _execute(sql: str, params: list | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.rowcount


def _fetch(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _month_code(column: str) -> str:
    """SQL: the month code (202611) of a date column."""
    if _is_postgresql():
        day = f"CAST({column} AS timestamp)"  # without a time zone: much cheaper per rating
        return f"CAST(date_part('year', {day}) * 100 + date_part('month', {day}) AS integer)"
    return f"CAST(strftime('%%Y%%m', {column}) AS integer)"


def _month_bounds(column: str) -> tuple[str, str]:
    """SQL: the first day of a date column's month and of the month after."""
    if _is_postgresql():
        start = f"date_trunc('month', {column})"
        return f"CAST({start} AS date)", f"CAST({start} + interval '1 month' AS date)"
    return f"date({column}, 'start of month')", f"date({column}, 'start of month', '+1 month')"


def _rating_aggregate(group: str, measure: str) -> str:
    """SQL: one count column of a month cell, aggregated over its ratings `e`."""
    mine = f"e.rater_group = '{group}'"
    if measure == "n":
        return f"COUNT(*) FILTER (WHERE {mine})"
    if measure.startswith("grade_"):
        return f"COUNT(*) FILTER (WHERE {mine} AND e.overall = {measure[-1]})"
    if measure == "bad_n":
        return f"COUNT(*) FILTER (WHERE {mine} AND e.overall <= 2)"
    dimension, part = measure.rsplit("_", 1)
    if part == "n":
        return f"COUNT(e.{dimension}) FILTER (WHERE {mine})"
    return f"COALESCE(SUM(e.{dimension}) FILTER (WHERE {mine}), 0)"


def _rating_aggregates() -> str:
    return ", ".join(_rating_aggregate(group, measure) for group in GROUPS for measure in MEASURES)


def _total_n(alias: str) -> str:
    return " + ".join(f"{alias}.{group}_n" for group in GROUPS)


def _upsert(select_sql: str) -> str:
    """INSERT … SELECT that overwrites a stored cell only where a count differs; returns the cells written."""
    updates = ", ".join(f"{column} = excluded.{column}" for column in COUNT_COLUMNS)
    changed = " OR ".join(f"{CELLS}.{column} <> excluded.{column}" for column in COUNT_COLUMNS)
    return (
        f"INSERT INTO {CELLS} ({', '.join(COLUMNS)}) {select_sql} "
        f"ON CONFLICT (brand_id, period) DO UPDATE SET {updates} WHERE {changed} "
        f"RETURNING brand_id, period, {_total_n(CELLS)}"
    )


def _sums(alias: str) -> str:
    return ", ".join(f"SUM({alias}.{column})" for column in COUNT_COLUMNS)


# --- the incremental fold ----------------------------------------------------------------------------


def _lock() -> None:
    """Serialize scoring jobs: a second job waits for the first to commit, then sees its result."""
    if _is_postgresql():
        # Compiling these short statements costs more than it saves; sorts of the full job stay in memory.
        _execute(
            "SELECT pg_advisory_xact_lock(%s), set_config('jit', 'off', true), "
            "set_config('work_mem', '256MB', true), set_config('maintenance_work_mem', '256MB', true)",
            [ADVISORY_LOCK_KEY],
        )
    # SQLite: the settings open every transaction with BEGIN IMMEDIATE, which takes the database
    # write lock for the whole job; a second job waits for it (up to the connection timeout).


def _watermark() -> tuple[ScoreWatermark, dict[str, int]]:
    """The watermark row, locked, and the newest ids this job will have folded in (by watermark field)."""
    mark, _created = ScoreWatermark.objects.select_for_update().get_or_create(pk=1)
    ((last_evaluation, last_state_change),) = _fetch(
        f"SELECT (SELECT MAX(id) FROM {RATINGS}), (SELECT MAX(id) FROM {STATE_CHANGES})"
    )
    return mark, {"last_evaluation_id": last_evaluation or 0, "last_state_change_id": last_state_change or 0}


def _advance(mark: ScoreWatermark, latest: dict[str, int]) -> None:
    for field, last in latest.items():
        setattr(mark, field, max(getattr(mark, field), last))
    mark.updated_at = timezone.now()
    mark.save()


def _mark_dirty(mark: ScoreWatermark) -> int:
    """Fill the dirty-month table: every (brand, month) with a rating or state change not yet folded."""
    since = connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(seconds=settings.SCORE_OVERLAP_SECONDS))
    start, end = _month_bounds("t.rated_on")
    _execute(f"DELETE FROM {DIRTY}")
    return _execute(
        f"""
        INSERT INTO {DIRTY} (brand_id, month, month_start, month_end)
        SELECT DISTINCT t.brand_id, {_month_code("t.rated_on")}, {start}, {end}
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


def _fold_months(months: list[int]) -> list[tuple[int, int, int]]:
    """Rebuild the dirty month cells from the counted ratings; returns the cells written as
    (brand, month, ratings left).

    A dirty month with no counted rating left becomes a zero row (deleted at the end of the fold) if it
    was stored, and nothing if it was not.
    """
    # The months' date ranges, as constants, tell the planner how few ratings qualify: it then reads
    # them through the (brand, day) index rather than joining the dirty cells against every rating.
    bounds = [connection.ops.adapt_datefield_value(day) for code in months for day in periods.month_bounds(code)]
    ranges = " OR ".join(["(e.rated_on >= %s AND e.rated_on < %s)"] * len(months))
    sql = _upsert(
        f"""
        SELECT d.brand_id, d.month, {_rating_aggregates()}
        FROM {DIRTY} d
        LEFT JOIN {RATINGS} e ON e.brand_id = d.brand_id AND e.rated_on >= d.month_start
             AND e.rated_on < d.month_end AND e.state = %s AND ({ranges})
        WHERE true
        GROUP BY d.brand_id, d.month
        HAVING COUNT(e.id) > 0 OR EXISTS (SELECT 1 FROM {CELLS} c WHERE c.brand_id = d.brand_id AND c.period = d.month)
        """
    )
    return _fetch(sql, [Evaluation.State.COUNTED, *bounds])


def _fold_parents(children: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Sum the periods above the written `children` cells from their finer cells; returns the cells written."""
    parents = sorted({(brand_id, periods.parent_code(code)) for brand_id, code, _n in children})
    written: list[tuple[int, int, int]] = []
    for start in range(0, len(parents), BATCH):
        batch = parents[start : start + BATCH]
        params = [value for brand_id, code in batch for value in (brand_id, code, *periods.child_range(code))]
        values = ", ".join(["(%s, %s, %s, %s)"] * len(batch))
        sql = f"WITH t (brand_id, period, low, high) AS (VALUES {values}) " + _upsert(
            f"""
            SELECT t.brand_id, t.period, {_sums("c")}
            FROM t JOIN {CELLS} c ON c.brand_id = t.brand_id AND c.period BETWEEN t.low AND t.high
            WHERE true
            GROUP BY t.brand_id, t.period
            """
        )
        written += _fetch(sql, params)
    return written


def _delete_cells(cells: list[tuple[int, int]]) -> None:
    for start in range(0, len(cells), BATCH):
        batch = cells[start : start + BATCH]
        keys = " OR ".join(["(brand_id = %s AND period = %s)"] * len(batch))
        _execute(f"DELETE FROM {CELLS} WHERE {keys}", [value for cell in batch for value in cell])


@transaction.atomic
def scores_fold_incremental() -> dict[str, int]:
    """Fold new ratings and state changes into the score cells; equal to `scores_recompute_full` afterwards.

    Returns the dirty months found, the cells written (inserted, changed, or emptied and so deleted)
    and the periods those cells are in.
    """
    _lock()
    mark, latest = _watermark()
    dirty = _mark_dirty(mark)
    result = {"dirty_months": dirty, "cells": 0, "periods": 0}
    if dirty:
        if _is_postgresql() and dirty > 100:
            # Its size decides between reading the dirty months' ratings by index or scanning them all.
            _execute(f"ANALYZE {DIRTY}")
        months = sorted(code for (code,) in _fetch(f"SELECT DISTINCT month FROM {DIRTY}"))
        written = level = _fold_months(months)
        for _kind in (periods.Kind.QUARTER, periods.Kind.YEAR, periods.Kind.ALL):
            if not level:
                break
            level = _fold_parents(level)
            written += level
        # Cells left with no rating were written as zeros above (so the sums above them were right).
        _delete_cells([(brand_id, code) for brand_id, code, n in written if n == 0])
        _execute(f"DELETE FROM {DIRTY}")
        changed = sorted({code for _brand_id, code, _n in written})
        result.update(cells=len(written), periods=len(changed))
        if changed:
            transaction.on_commit(lambda: _periods_changed(changed))
    _advance(mark, latest)
    return result


# --- the full recompute ----------------------------------------------------------------------------


def _build_all(table: str) -> int:
    """Every cell into the empty `table`: months from the ratings, then each coarser kind from the finer."""
    cells = _execute(
        f"""
        INSERT INTO {table} ({", ".join(COLUMNS)})
        SELECT e.brand_id, {_month_code("e.rated_on")}, {_rating_aggregates()}
        FROM {RATINGS} e WHERE e.state = %s
        GROUP BY e.brand_id, {_month_code("e.rated_on")}
        """,
        [Evaluation.State.COUNTED],
    )
    parent = {
        periods.Kind.MONTH: "(c.period / 100) * 10 + (c.period %% 100 + 2) / 3",
        periods.Kind.QUARTER: "c.period / 10",
        periods.Kind.YEAR: "0",
    }
    for finer in (periods.Kind.MONTH, periods.Kind.QUARTER, periods.Kind.YEAR):
        low, high = periods.CODE_RANGES[finer]
        # PostgreSQL refuses a constant (all time's 0) in GROUP BY.
        group_by = "c.brand_id" if finer == periods.Kind.YEAR else f"c.brand_id, {parent[finer]}"
        cells += _execute(
            f"INSERT INTO {table} ({', '.join(COLUMNS)}) SELECT c.brand_id, {parent[finer]}, {_sums('c')} "
            f"FROM {table} c WHERE c.period BETWEEN %s AND %s GROUP BY {group_by}",
            [low, high],
        )
    return cells


def _build_and_swap() -> int:
    """PostgreSQL: build every cell in a new table, index it, then put it in place of the cells table.

    Writing into an unindexed table and building each index once afterwards is several times faster
    than updating the indexes row by row (and leaves no dead rows behind). The new table takes the
    old one's columns, defaults, checks, every index and constraint under its own name, and the
    privileges granted on it, read from the catalog, so migrations find the schema they made. Readers
    keep the old table until the commit; the ones that arrive after read the new one.
    """
    quote = connection.ops.quote_name
    _execute(f"DROP TABLE IF EXISTS {BUILD}")
    _execute(f"CREATE TABLE {BUILD} (LIKE {CELLS} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cells = _build_all(BUILD)
    constraints = _fetch(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'x') ORDER BY contype, conname",
        [CELLS],
    )
    indexes = _fetch(
        "SELECT c.relname, x.indisunique, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint k WHERE k.conrelid = x.indrelid AND k.conindid = x.indexrelid) "
        "ORDER BY c.relname",
        [CELLS],
    )
    renames = []
    for i, (name, definition) in enumerate(constraints):
        _execute(f"ALTER TABLE {BUILD} ADD CONSTRAINT scorecell_swap_c{i} {definition}")
        renames.append(f"ALTER TABLE {CELLS} RENAME CONSTRAINT scorecell_swap_c{i} TO {quote(name)}")
    for i, (name, unique, definition) in enumerate(indexes):
        method = definition.split(" USING ", 1)[1]
        _execute(f"CREATE {'UNIQUE ' if unique else ''}INDEX scorecell_swap_i{i} ON {BUILD} USING {method}")
        renames.append(f"ALTER INDEX scorecell_swap_i{i} RENAME TO {quote(name)}")
    # Privileges granted on the old table (a read-only role for reports, say) go to the new one.
    grants = _fetch(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, "
        "a.privilege_type, a.is_grantable FROM pg_class c, aclexplode(c.relacl) a "
        "WHERE c.oid = %s::regclass AND a.grantee <> c.relowner ORDER BY 1, 2",
        [CELLS],
    )
    for grantee, privilege, grantable in grants:
        _execute(f"GRANT {privilege} ON {BUILD} TO {grantee}{' WITH GRANT OPTION' if grantable else ''}")
    _execute(f"DROP TABLE {CELLS}")
    _execute(f"ALTER TABLE {BUILD} RENAME TO {CELLS}")
    for statement in renames:
        _execute(statement)
    # The planner's statistics went with the old table; readers should not wait for autovacuum.
    _execute(f"ANALYZE {CELLS}")
    return cells


@transaction.atomic
def scores_recompute_full() -> dict[str, int]:
    """Rebuild every score cell from the ratings table, in one transaction."""
    _lock()
    mark, latest = _watermark()
    if _is_postgresql():
        cells = _build_and_swap()
    else:
        _execute(f"DELETE FROM {CELLS}")
        cells = _build_all(CELLS)
    _advance(mark, latest)
    transaction.on_commit(_new_generation)
    return {"cells": cells, "periods": ScoreCell.objects.values("period").distinct().count()}


# --- versions: what caches of reads key on ------------------------------------------------------------


def scores_version(code: int) -> str:
    """A token that changes whenever a job commits a change to a cell of period `code`."""
    generation = cache.get_or_set(GENERATION_KEY, lambda: uuid.uuid4().hex, None)
    token = cache.get_or_set(PERIOD_TOKEN_KEY.format(code=code), lambda: uuid.uuid4().hex, None)
    return f"{generation}.{token}"


def _periods_changed(codes: list[int]) -> None:
    cache.delete_many([PERIOD_TOKEN_KEY.format(code=code) for code in codes])


def _new_generation() -> None:
    cache.delete(GENERATION_KEY)
