"""The scoring jobs: ratings folded into score cells, incrementally (`scores_fold_incremental`) or in full
(`scores_recompute_full`); the property test holds them equal on both databases.

Months are aggregated from the counted ratings; quarters are sums of months, years of quarters, all
time of years. A period code's finer periods are one contiguous range of the (brand, period) key
(`scores.periods`), so each sum is an index range read.

The incremental fold finds the dirty (brand, month) cells — ratings past the watermark, ratings created
within ``SCORE_OVERLAP_SECONDS`` (an id that committed late is never missed), and ratings whose state
changed since — rebuilds them from the ratings table, and writes only the cells whose counts changed.
The quarter, year and all-time cells above the changed months follow: on PostgreSQL each month's
difference is added to them in the same statement (`_fold_by_deltas`); on SQLite they are summed again
from the cells below (`_fold_parents`). A cell left with no rating is deleted. The month cells are
rebuilt from the ratings, and a coarser cell changes only by what its months changed, so a run that
finds nothing new writes nothing; nothing depends on other brands, so a fold after one rating writes
at most that brand's four cells.

Each job is one transaction serialized by the lock on the watermark row (on SQLite the IMMEDIATE
transaction holds the database write lock): readers see the previous cells until the commit, and a
failure rolls everything back. On PostgreSQL a fold of many ratings splits the brands in parts that fold
at once, each committing its brands' cells in a transaction of its own while the job holds the lock; a
brand's cells still change together, and a failed part's brands wait for the next fold. Submissions never
touch a shared row; they ask for a debounced fold (`evaluations.refresh`).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from config import pagecache
from evaluations.models import Evaluation, EvaluationStateChange
from scores import periods
from scores.models import COUNT_COLUMNS, GRADES, GROUPS, MEASURES, ScoreCell, ScoreWatermark

# Caches of reads over the cells key on these (see `scores_version`): the generation changes when
# the full job commits, a period's token when a fold changes one of its cells.
GENERATION_KEY = "scores:generation"
PERIOD_TOKEN_KEY = "scores:period:{code}"

CELLS = ScoreCell._meta.db_table
BUILD = f"{CELLS}_build"
WATERMARK = ScoreWatermark._meta.db_table
RATINGS = Evaluation._meta.db_table
STATE_CHANGES = EvaluationStateChange._meta.db_table
KEY_COLUMNS = ("brand_id", "period")
COLUMNS = KEY_COLUMNS + COUNT_COLUMNS
# SQLite binds at most 32766 parameters per statement; psycopg2 interpolates them, so PostgreSQL takes
# a fold's cells in one statement (and reads the cells table once rather than once per batch).
SQLITE_MAX_PARAMETERS = 32000


# --- SQL building blocks ---------------------------------------------------------------------------


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _batches(rows: list, parameters_per_row: int) -> list[list]:
    """`rows` in batches, each small enough for one statement."""
    size = len(rows) or 1 if _is_postgresql() else SQLITE_MAX_PARAMETERS // parameters_per_row - 100
    return [rows[start : start + size] for start in range(0, len(rows), size)]


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


def _quarter_of(month: str) -> str:
    """SQL: the quarter code of a month code (202611 → 20264), as `periods.parent_code` computes it."""
    return f"({month} / 100) * 10 + ({month} %% 100 + 2) / 3"


# What each rating adds to its month cell; n and bad_n follow from the grade counts.
AGGREGATED = [measure for measure in MEASURES if measure not in ("n", "bad_n")]


def _rating_aggregate(group: str, measure: str) -> str:
    """SQL: one of a month cell's AGGREGATED counts, over its ratings `e`.

    Each filter tests a column first and compares the rater group (text) only for the ratings that pass:
    the comparisons of text were a sixth of the full job's time when every filter began with them.
    """
    mine = f"e.rater_group = '{group}'"
    if measure == "verified_n":
        return f"COUNT(*) FILTER (WHERE e.verified AND {mine})"
    if measure.startswith("grade_"):
        return f"COUNT(*) FILTER (WHERE e.overall = {measure[-1]} AND {mine})"
    dimension, part = measure.rsplit("_", 1)
    given = f"e.{dimension} IS NOT NULL AND {mine}"
    if part == "n":
        return f"COUNT(*) FILTER (WHERE {given})"
    return f"COALESCE(SUM(e.{dimension}) FILTER (WHERE {given}), 0)"


def _rating_aggregates() -> str:
    """SQL: the AGGREGATED counts of every rater group, named `<group>_<measure>`."""
    return ", ".join(
        f"{_rating_aggregate(group, measure)} AS {group}_{measure}" for group in GROUPS for measure in AGGREGATED
    )


def _cell_counts(alias: str) -> str:
    """SQL: the COUNT_COLUMNS, as integers, of a row `alias` of AGGREGATED counts."""

    def count(group: str, measure: str) -> str:
        if measure == "n":
            return " + ".join(f"{alias}.{group}_grade_{grade}" for grade in GRADES)
        if measure == "bad_n":
            return f"{alias}.{group}_grade_1 + {alias}.{group}_grade_2"
        return f"{alias}.{group}_{measure}"

    return ", ".join(
        f"CAST({count(group, measure)} AS integer) AS {group}_{measure}" for group in GROUPS for measure in MEASURES
    )


def _total_n(alias: str) -> str:
    return " + ".join(f"{alias}.{group}_n" for group in GROUPS)


def _upsert(select_sql: str) -> str:
    """INSERT … SELECT that overwrites a stored cell only where a count differs; returns the cells written."""
    updates = ", ".join(f"{column} = excluded.{column}" for column in COUNT_COLUMNS)
    changed = " OR ".join(f"{CELLS}.{column} <> excluded.{column}" for column in COUNT_COLUMNS)
    return (
        f"INSERT INTO {CELLS} ({', '.join(COLUMNS)}) {select_sql} "
        f"ON CONFLICT (brand_id, period) DO UPDATE SET {updates} WHERE {changed} "
        f"RETURNING brand_id, period, {_total_n(CELLS)} AS ratings"
    )


def _sums(alias: str) -> str:
    """SQL: the sum of each count column of rows `alias`, under the column's name."""
    return ", ".join(f"SUM({alias}.{column}) AS {column}" for column in COUNT_COLUMNS)


# --- the incremental fold ----------------------------------------------------------------------------


@dataclass
class _Mark:
    """The watermark as this job found it, and the newest ids it will have folded in."""

    evaluation_id: int
    state_change_id: int
    recent: list
    latest_evaluation_id: int
    latest_state_change_id: int
    now: float = field(default_factory=lambda: time.time())

    def overlap_evaluation_id(self) -> int | None:
        """Ratings above this id may have been created within the overlap window: the newest rating id
        seen by a fold at least ``SCORE_OVERLAP_SECONDS`` ago (None if no recorded fold is that old)."""
        old = [entry for entry in self.recent if entry[0] <= self.now - settings.SCORE_OVERLAP_SECONDS]
        return max(old)[1] if old else None

    def recent_after(self) -> list:
        """`recent` with this job: the folds within the window and the newest one before it."""
        window = self.now - settings.SCORE_OVERLAP_SECONDS
        kept = [entry for entry in self.recent if entry[0] > window]
        older = [entry for entry in self.recent if entry[0] <= window]
        return ([max(older)] if older else []) + kept + [[self.now, self.latest_evaluation_id]]


# What a scoring job sets for its transaction on PostgreSQL. Compiling these short statements costs more
# than it saves; sorts of the full job stay in memory. The commit need not wait for the disk: cells and
# watermark commit together (a fold's parts commit before its watermark, earlier in the log), so a commit
# lost in a crash loses the watermark too, and the next job folds the same ratings again.
JOB_SETTINGS = {"jit": "off", "work_mem": "256MB", "maintenance_work_mem": "256MB", "synchronous_commit": "off"}
# A fold reads a few cells' ratings and cells by index; with many dirty cells the planner would rather scan
# whole tables, which costs more than the index reads at any size here. So one generic plan serves every
# fold (`_fetch_prepared`).
FOLD_SETTINGS = {"enable_seqscan": "off", "plan_cache_mode": "force_generic_plan"}


def _set_config(values: dict[str, str]) -> str:
    """SQL: select-list items setting each of `values` for the current transaction."""
    return ", ".join(f"set_config('{name}', '{value}', true)" for name, value in values.items())


def _begin(*, fold: bool = False) -> _Mark:
    """Lock the watermark row and read it with the newest rating and state change ids, in one statement,
    which also sets the job's settings.

    The row lock serializes scoring jobs: a second job waits for the first to commit, then reads the
    watermark it left (on SQLite the IMMEDIATE transaction already holds the database write lock).
    """
    options, lock = "", ""
    if _is_postgresql():
        options = ", " + _set_config({**JOB_SETTINGS, **(FOLD_SETTINGS if fold else {})})
        lock = " FOR UPDATE OF w"
    sql = (
        f"SELECT w.last_evaluation_id, w.last_state_change_id, w.recent, (SELECT MAX(id) FROM {RATINGS}),"
        f" (SELECT MAX(id) FROM {STATE_CHANGES}){options} FROM {WATERMARK} w WHERE w.id = 1{lock}"
    )
    rows = _fetch(sql)
    if not rows:
        _execute(
            f"INSERT INTO {WATERMARK} (id, last_evaluation_id, last_state_change_id, recent) VALUES (1, 0, 0, '[]') "
            "ON CONFLICT (id) DO NOTHING"
        )
        rows = _fetch(sql)
    evaluation_id, state_change_id, recent, latest_evaluation_id, latest_state_change_id = rows[0][:5]
    if isinstance(recent, str):  # SQLite keeps JSON as text
        recent = json.loads(recent)
    return _Mark(evaluation_id, state_change_id, recent, latest_evaluation_id or 0, latest_state_change_id or 0)


def _advance(mark: _Mark) -> None:
    _execute(
        f"UPDATE {WATERMARK} SET last_evaluation_id = %s, last_state_change_id = %s, recent = %s, updated_at = %s "
        "WHERE id = 1",
        [
            max(mark.evaluation_id, mark.latest_evaluation_id),
            max(mark.state_change_id, mark.latest_state_change_id),
            json.dumps(mark.recent_after()),
            connection.ops.adapt_datetimefield_value(timezone.now()),
        ],
    )


def _dirty_cells_select(mark: _Mark, part: str = "") -> tuple[str, list]:
    """SQL and parameters: every (brand_id, month) with a rating or state change not yet folded, or
    created within the overlap; `part` is a further condition on the ratings' `e.brand_id`.

    Ratings created within the overlap are those above the newest id a fold saw before the window (one
    range of the primary key); without such a fold, their creation time says (a wider read).
    """
    since = connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(seconds=settings.SCORE_OVERLAP_SECONDS))
    overlap_id = mark.overlap_evaluation_id()
    if overlap_id is not None:
        ratings, params = (
            f"SELECT e.brand_id AS brand_id, e.rated_on AS rated_on FROM {RATINGS} e WHERE e.id > %s{part}",
            [min(overlap_id, mark.evaluation_id)],
        )
    else:
        ratings = (
            f"SELECT e.brand_id AS brand_id, e.rated_on AS rated_on FROM {RATINGS} e WHERE e.id > %s{part}"
            f" UNION ALL SELECT e.brand_id, e.rated_on FROM {RATINGS} e WHERE e.created_at >= %s{part}"
        )
        params = [mark.evaluation_id, since]
    if _is_postgresql():
        # The first day of a rating's month costs one function call, its code two: the code follows
        # for the distinct cells only.
        distinct, code = "date_trunc('month', CAST(t.rated_on AS timestamp))", _month_code("x.month")
    else:
        distinct, code = _month_code("t.rated_on"), "x.month"
    return (
        f"""
        SELECT x.brand_id, {code} AS month FROM (
            SELECT DISTINCT t.brand_id AS brand_id, {distinct} AS month
            FROM (  -- the DISTINCT above removes every duplicate once
                {ratings}
                UNION ALL SELECT e.brand_id, e.rated_on FROM {STATE_CHANGES} sc
                      JOIN {RATINGS} e ON e.id = sc.evaluation_id WHERE sc.id > %s{part}
                UNION ALL SELECT e.brand_id, e.rated_on FROM {STATE_CHANGES} sc
                      JOIN {RATINGS} e ON e.id = sc.evaluation_id WHERE sc.created_at >= %s{part}
            ) t
        ) x
        """,
        [*params, mark.state_change_id, since],
    )


def _dirty_cells(mark: _Mark) -> list[tuple[int, int]]:
    return _fetch(*_dirty_cells_select(mark))


def _fresh_months(dirty: str) -> str:
    """SQL: the rebuilt counts of the dirty cells `dirty` (a table of brand_id, month, month_start,
    month_end) that have counted ratings or are stored; the counted state is a parameter."""
    return f"""
        SELECT a.brand_id, a.month AS period, {_cell_counts("a")}
        FROM (
            SELECT d.brand_id AS brand_id, d.month AS month, {_rating_aggregates()}
            FROM {dirty} d
            LEFT JOIN {RATINGS} e ON e.brand_id = d.brand_id AND e.rated_on >= d.month_start
                 AND e.rated_on < d.month_end AND e.state = %s
            GROUP BY d.brand_id, d.month
            HAVING COUNT(e.id) > 0
                OR EXISTS (SELECT 1 FROM {CELLS} c WHERE c.brand_id = d.brand_id AND c.period = d.month)
        ) a
    """


def _fold_months(dirty: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Rebuild the dirty month cells from the counted ratings; returns the cells written as
    (brand, month, ratings left).

    A dirty month with no counted rating left becomes a zero row (deleted at the end of the fold) if it
    was stored, and nothing if it was not.
    """
    written: list[tuple[int, int, int]] = []
    day = connection.ops.adapt_datefield_value
    for batch in _batches(dirty, 4):
        values = ", ".join(["(%s, %s, %s, %s)"] * len(batch))
        params = [
            value for brand_id, month in batch for value in (brand_id, month, *map(day, periods.month_bounds(month)))
        ]
        sql = f"WITH d (brand_id, month, month_start, month_end) AS (VALUES {values}) " + _upsert(
            f"SELECT * FROM ({_fresh_months('d')}) f WHERE true"
        )
        written += _fetch(sql, [*params, Evaluation.State.COUNTED])
    return written


def _fold_by_deltas(mark: _Mark, part: str = "") -> tuple[int, list[tuple[int, int, int]]]:
    """PostgreSQL, in one statement: find the dirty month cells (of the brands meeting the condition
    `part` on `e.brand_id`), rebuild them from the counted ratings, and add each changed month's
    difference to its quarter, year and all-time cells. Returns the number of dirty cells and the cells
    written.

    Each dirty cell's ratings are read through the (brand, day) index (a lateral subquery, whatever the
    planner guesses of the dirty cells' number). Equal to `_fold_months` then `_fold_parents` (the
    property test holds both to the full job): a
    coarser cell is the sum of its months before the fold, so adding the months' changes keeps it so,
    without reading the other months, quarters and years again.
    """
    dirty, params = _dirty_cells_select(mark, part)
    first = "make_date(x.month / 100, x.month %% 100, 1)"
    stored = ", ".join(f"c.{column}" for column in COUNT_COLUMNS)
    differences = ", ".join(f"f.{column} - COALESCE(o.{column}, 0) AS {column}" for column in COUNT_COLUMNS)
    changed = " OR ".join(f"f.{column} <> o.{column}" for column in COUNT_COLUMNS)
    counts = ", ".join(COUNT_COLUMNS)
    assigned = ", ".join(f"{column} = f.{column}" for column in COUNT_COLUMNS)
    added = ", ".join(f"{column} = c.{column} + s.{column}" for column in COUNT_COLUMNS)
    nonzero = " OR ".join(f"SUM(p.{column}) <> 0" for column in COUNT_COLUMNS)
    sql = f"""
        WITH d AS MATERIALIZED (
            SELECT x.brand_id, x.month, {first} AS month_start, CAST({first} + interval '1 month' AS date) AS month_end
            FROM ({dirty}) x
        ),
        fresh AS MATERIALIZED (
            SELECT a.brand_id, a.month AS period, {_cell_counts("a")}
            FROM (
                SELECT d.brand_id, d.month, r.*
                FROM d CROSS JOIN LATERAL (
                    SELECT COUNT(*) AS rated, {_rating_aggregates()}
                    FROM {RATINGS} e
                    WHERE e.brand_id = d.brand_id AND e.rated_on >= d.month_start AND e.rated_on < d.month_end
                      AND e.state = %s
                ) r
                WHERE r.rated > 0
                   OR EXISTS (SELECT 1 FROM {CELLS} c WHERE c.brand_id = d.brand_id AND c.period = d.month)
            ) a
        ),
        old AS (  -- one primary-key lookup per dirty cell (LIMIT keeps the plan from joining the whole table)
            SELECT o.*
            FROM d CROSS JOIN LATERAL (
                SELECT c.brand_id, c.period, {stored} FROM {CELLS} c
                WHERE c.brand_id = d.brand_id AND c.period = d.month LIMIT 1
            ) o
        ),
        delta AS MATERIALIZED (
            SELECT f.brand_id, f.period, o.brand_id IS NOT NULL AS stored, {differences}
            FROM fresh f LEFT JOIN old o ON o.brand_id = f.brand_id AND o.period = f.period
            WHERE o.brand_id IS NULL OR {changed}
        ),
        month_updates AS (
            UPDATE {CELLS} c SET {assigned}
            FROM fresh f JOIN delta USING (brand_id, period)
            WHERE delta.stored AND c.brand_id = f.brand_id AND c.period = f.period
            RETURNING c.brand_id, c.period, {_total_n("c")} AS ratings
        ),
        month_inserts AS (
            INSERT INTO {CELLS} ({", ".join(COLUMNS)})
            SELECT f.* FROM fresh f JOIN delta USING (brand_id, period) WHERE NOT delta.stored
            RETURNING brand_id, period, {_total_n(CELLS)} AS ratings
        ),
        parent_sums AS MATERIALIZED (
            SELECT p.brand_id, p.period, {_sums("p")}
            FROM (
                SELECT brand_id, {_quarter_of("period")} AS period, {counts} FROM delta
                UNION ALL SELECT brand_id, period / 100, {counts} FROM delta
                UNION ALL SELECT brand_id, {periods.ALL}, {counts} FROM delta
            ) p
            GROUP BY p.brand_id, p.period
            HAVING {nonzero}
        ),
        parent_updates AS (
            UPDATE {CELLS} c SET {added}
            FROM parent_sums s
            WHERE c.brand_id = s.brand_id AND c.period = s.period
            RETURNING c.brand_id, c.period, {_total_n("c")} AS ratings
        ),
        parent_inserts AS (  -- the sums of cells that do not exist yet: those the update did not find
            INSERT INTO {CELLS} ({", ".join(COLUMNS)})
            SELECT s.* FROM parent_sums s
            WHERE NOT EXISTS (SELECT 1 FROM parent_updates u WHERE u.brand_id = s.brand_id AND u.period = s.period)
            RETURNING brand_id, period, {_total_n(CELLS)} AS ratings
        )
        SELECT 0, COUNT(*), 0, 0 FROM d
        UNION ALL SELECT 1, brand_id, period, ratings FROM month_updates
        UNION ALL SELECT 1, brand_id, period, ratings FROM month_inserts
        UNION ALL SELECT 1, brand_id, period, ratings FROM parent_updates
        UNION ALL SELECT 1, brand_id, period, ratings FROM parent_inserts
    """
    rows = _fetch_prepared("scores_fold", sql, [*params, Evaluation.State.COUNTED])
    return next(row[1] for row in rows if row[0] == 0), [row[1:] for row in rows if row[0] == 1]


def _fetch_prepared(name: str, sql: str, params: list) -> list[tuple]:
    """PostgreSQL: run `sql` as a prepared statement of this connection, prepared on first use.

    Planning the fold's statement takes longer than running it after a few ratings (about 3 ms against
    1 ms), and steady traffic folds every few seconds. The name carries a digest of the text, since the
    statement differs with the overlap window and the settings. The fold plans it once, generically
    (`plan_cache_mode` in `_begin`): its reads go through indexes whatever the parameters.
    """
    name = f"{name}_{hashlib.sha1(sql.encode()).hexdigest()[:12]}"
    if not _fetch("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [name]):
        numbered = iter(range(1, len(params) + 1))
        text = re.sub(r"%(%|s)", lambda match: "%" if match.group(1) == "%" else f"${next(numbered)}", sql)
        _execute(f"PREPARE {name} AS {text}".replace("%", "%%"))
    return _fetch(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)


def _fold_parents(months: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Sum the cells above the written month cells, in one statement: each touched quarter from its
    months, each touched year from its quarters (the touched ones as just summed, the others as stored),
    all time from the years likewise. Returns the cells written."""
    quarters: dict[int, set[int]] = {}
    for brand_id, month, _n in months:
        quarters.setdefault(brand_id, set()).add(periods.parent_code(month))
    counts = ", ".join(COUNT_COLUMNS)
    stored = ", ".join(f"c.{column}" for column in COUNT_COLUMNS)
    written: list[tuple[int, int, int]] = []
    # A brand's quarters stay in one statement: its year and all-time sums need every one of them.
    for brands in _batches(sorted(quarters), 5 * 4):
        rows = [
            (brand_id, quarter, *periods.child_range(quarter), quarter // 10)
            for brand_id in brands
            for quarter in sorted(quarters[brand_id])
        ]
        values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
        years, everything = periods.CODE_RANGES[periods.Kind.YEAR], periods.ALL
        sql = f"""
            WITH t (brand_id, quarter, low, high, year) AS (VALUES {values}),
            q AS (
                SELECT t.brand_id AS brand_id, t.quarter AS period, {_sums("c")}
                FROM t JOIN {CELLS} c ON c.brand_id = t.brand_id AND c.period BETWEEN t.low AND t.high
                GROUP BY t.brand_id, t.quarter
            ),
            y AS (
                SELECT x.brand_id AS brand_id, x.period / 10 AS period, {_sums("x")}
                FROM (
                    SELECT c.brand_id, c.period, {stored}
                    FROM (SELECT DISTINCT brand_id, year FROM t) ty JOIN {CELLS} c
                         ON c.brand_id = ty.brand_id AND c.period BETWEEN ty.year * 10 + 1 AND ty.year * 10 + 4
                    WHERE NOT EXISTS (SELECT 1 FROM q WHERE q.brand_id = c.brand_id AND q.period = c.period)
                    UNION ALL SELECT brand_id, period, {counts} FROM q
                ) x
                GROUP BY x.brand_id, x.period / 10
            ),
            a AS (
                SELECT x.brand_id AS brand_id, {everything} AS period, {_sums("x")}
                FROM (
                    SELECT c.brand_id, {stored}
                    FROM (SELECT DISTINCT brand_id FROM t) tb
                    JOIN {CELLS} c ON c.brand_id = tb.brand_id AND c.period BETWEEN {years[0]} AND {years[1]}
                    WHERE NOT EXISTS (SELECT 1 FROM y WHERE y.brand_id = c.brand_id AND y.period = c.period)
                    UNION ALL SELECT brand_id, {counts} FROM y
                ) x
                GROUP BY x.brand_id
            )
        """ + _upsert(
            f"""
            SELECT p.brand_id, p.period, {", ".join(f"p.{column}" for column in COUNT_COLUMNS)}
            FROM (SELECT * FROM q UNION ALL SELECT * FROM y UNION ALL SELECT * FROM a) p
            WHERE true
            """
        )
        written += _fetch(sql, [value for row in rows for value in row])
    return written


def _delete_cells(cells: list[tuple[int, int]]) -> None:
    for batch in _batches(cells, 2):
        keys = " OR ".join(["(brand_id = %s AND period = %s)"] * len(batch))
        _execute(f"DELETE FROM {CELLS} WHERE {keys}", [value for cell in batch for value in cell])


# A fold past at least this many ratings and state changes splits the brands in FOLD_PARTS parts and
# folds them at once, each on a connection of its own: reading and writing 100k ratings' cells takes about
# a second on one core. A smaller fold is one statement on the job's connection.
FOLD_PARTS = 2
FOLD_PARTS_FROM = 5_000


def _fold_parts(mark: _Mark) -> int:
    """How many parts the fold from `mark` runs in: FOLD_PARTS on PostgreSQL past FOLD_PARTS_FROM
    ratings and state changes, if the job is not inside a caller's transaction (a test's), whose rows the
    other connections could not see; otherwise one."""
    if not _is_postgresql() or len(connection.atomic_blocks) > 1:
        return 1
    overlap_id = mark.overlap_evaluation_id()
    first = mark.evaluation_id if overlap_id is None else min(overlap_id, mark.evaluation_id)
    reads = mark.latest_evaluation_id - first + mark.latest_state_change_id - mark.state_change_id
    return FOLD_PARTS if reads >= FOLD_PARTS_FROM else 1


def _fold(mark: _Mark, part: str = "") -> tuple[int, list[tuple[int, int, int]]]:
    """Fold the dirty cells (of the brands meeting `part`, on PostgreSQL) in the current transaction; its
    commit invalidates the caches of the periods written. Returns the number of dirty months and the cells
    written."""
    if _is_postgresql():
        dirty, written = _fold_by_deltas(mark, part)
    else:
        cells = _dirty_cells(mark)
        dirty, written = len(cells), _fold_months(cells) if cells else []
        if written:
            written += _fold_parents(written)
    # Cells left with no rating were written as zeros above (so the sums above them were right).
    _delete_cells([(brand_id, code) for brand_id, code, n in written if n == 0])
    changed = sorted({code for _brand_id, code, _n in written})
    if changed:
        transaction.on_commit(lambda: _periods_changed(changed))
    return dirty, written


@transaction.atomic
def scores_fold_incremental() -> dict[str, int]:
    """Fold new ratings and state changes into the score cells; equal to `scores_recompute_full` afterwards.

    Returns the dirty months found, the cells written (inserted, changed, or emptied and so deleted)
    and the periods those cells are in.

    A fold in parts commits each part's cells on its connection while this job's transaction holds the
    watermark's lock, and moves the watermark once all have: a brand's cells are always folded together,
    and if a part fails, its brands are as they were and the next fold completes them (the parts that
    committed find their months equal to their ratings, and write nothing again).
    """
    mark = _begin(fold=True)
    parts = _fold_parts(mark)
    if parts == 1:
        folds = [_fold(mark)]
    else:

        def fold_part(k: int) -> tuple[int, list[tuple[int, int, int]]]:
            with transaction.atomic():
                _fetch(f"SELECT {_set_config(FOLD_SETTINGS)}")
                return _fold(mark, f" AND e.brand_id %% {parts} = {k}")

        folds = _on_connections([lambda k=k: fold_part(k) for k in range(parts)])
    _advance(mark)
    written = [cell for _dirty, cells in folds for cell in cells]
    return {
        "dirty_months": sum(dirty for dirty, _cells in folds),
        "cells": len(written),
        "periods": len({code for _brand_id, code, _n in written}),
    }


# --- the full recompute ----------------------------------------------------------------------------


# The full job on PostgreSQL splits the brands in this many parts and builds the parts' cells at once, each
# on a connection of its own: a statement runs on one core, and aggregating the ratings is most of the job.
BUILD_PARTS = 2
# The settings of the parts' connections: a job's, and no parallel workers of their own.
PART_SETTINGS = "; ".join(
    f"SET {name} = '{value}'" for name, value in {**JOB_SETTINGS, "max_parallel_workers_per_gather": "0"}.items()
)


def _month_cells_select(part: str = "") -> str:
    """SQL: the month cells from the counted ratings (the state a parameter), in COLUMNS order; `part` is
    a further condition on the ratings' `brand_id`."""
    month = _month_code("e.rated_on")
    return (
        f"SELECT a.brand_id, a.period, {_cell_counts('a')} FROM ("
        f"SELECT e.brand_id AS brand_id, {month} AS period, {_rating_aggregates()} FROM {RATINGS} e "
        f"WHERE e.state = %s{part} GROUP BY e.brand_id, {month}) a"
    )


def _build_months(table: str, part: str = "") -> int:
    """The month cells into the empty `table` (those of brands meeting the condition `part`)."""
    return _execute(
        f"INSERT INTO {table} ({', '.join(COLUMNS)}) {_month_cells_select(part)}", [Evaluation.State.COUNTED]
    )


def _build_coarser(table: str, part: str = "") -> int:
    """Each coarser kind of cell into `table`, summed from the next finer one (of brands meeting `part`)."""
    parent = {
        periods.Kind.MONTH: _quarter_of("c.period"),
        periods.Kind.QUARTER: "c.period / 10",
        periods.Kind.YEAR: "0",
    }
    cells = 0
    for finer in (periods.Kind.MONTH, periods.Kind.QUARTER, periods.Kind.YEAR):
        low, high = periods.CODE_RANGES[finer]
        # PostgreSQL refuses a constant (all time's 0) in GROUP BY.
        group_by = "c.brand_id" if finer == periods.Kind.YEAR else f"c.brand_id, {parent[finer]}"
        cells += _execute(
            f"INSERT INTO {table} ({', '.join(COLUMNS)}) SELECT c.brand_id, {parent[finer]}, {_sums('c')} "
            f"FROM {table} c WHERE c.period BETWEEN %s AND %s{part} GROUP BY {group_by}",
            [low, high],
        )
    return cells


def _on_connections(works: list) -> list:
    """Run each of `works` (callables) at once, each in a thread on a database connection of its own, in
    autocommit (each statement commits as it ends, unless the work opens a transaction); returns their
    results, or raises the first error once all have ended."""

    def run(work):
        try:
            _execute(PART_SETTINGS)
            return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(works)) as pool:
        futures = [pool.submit(run, work) for work in works]
    return [future.result() for future in futures]


def _build_and_swap() -> int:
    """PostgreSQL: build every cell in a new table, index it, then put it in place of the cells table.

    Writing into an unindexed table and building each index once afterwards is several times faster
    than updating the indexes row by row (and leaves no dead rows behind). The new table has the old
    one's columns (types, order, NOT NULL; the cells have no defaults or checks), every index and
    constraint under its own name, its storage parameters and the privileges granted on it, read from
    the catalog, so migrations find the schema they made. Readers keep the old table until the commit;
    the ones that arrive after read the new one.

    The cells are built in BUILD_PARTS parts of the brands at once, and the indexes all at once, on
    connections of their own that commit into the new table; this job's transaction then adds the
    constraints and swaps it, so a failure anywhere leaves the old table in place (the next job drops
    the new one). Those connections see only what is committed: a job inside a caller's transaction (a
    test's) builds on its own connection.
    """
    quote = connection.ops.quote_name
    parts = BUILD_PARTS if len(connection.atomic_blocks) == 1 else 1

    def at_once(works: list) -> int:
        return sum(_on_connections(works)) if parts > 1 else sum(work() for work in works)

    def each_part(build) -> list:
        if parts == 1:
            return [lambda: build("")]
        return [lambda k=k: build(f" AND brand_id %% {parts} = {k}") for k in range(parts)]

    at_once([lambda: _execute(f"DROP TABLE IF EXISTS {BUILD}; CREATE TABLE {BUILD} (LIKE {CELLS})")])
    cells = at_once(each_part(lambda part: _build_months(BUILD, part)))
    # The old table's storage parameters (the fillfactor of migration scores 0003) apply from here on:
    # past months are written densely, since folds rarely touch them; the coarser cells, which every
    # fold rewrites, get room on their pages for in-place (HOT) updates.
    (options,) = _fetch("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [CELLS])[0]
    if options:
        at_once([lambda: _execute(f"ALTER TABLE {BUILD} SET ({', '.join(options)})")])
    cells += at_once(each_part(lambda part: _build_coarser(BUILD, part)))
    # Every index at once, those of the primary key and unique constraints included; the constraints
    # then take theirs over.
    constraints = _fetch(
        "SELECT conname, contype, pg_get_indexdef(conindid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u') ORDER BY contype, conname",
        [CELLS],
    )
    indexes = _fetch(
        "SELECT c.relname, x.indisunique, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint k WHERE k.conrelid = x.indrelid AND k.conindid = x.indexrelid) "
        "ORDER BY c.relname",
        [CELLS],
    )
    builds = [(f"scorecell_swap_c{i}", True, definition) for i, (_name, _kind, definition) in enumerate(constraints)]
    builds += [(f"scorecell_swap_i{i}", unique, definition) for i, (_name, unique, definition) in enumerate(indexes)]

    def create_index(name: str, unique: bool, definition: str):
        method = definition.split(" USING ", 1)[1]
        return lambda: _execute(f"CREATE {'UNIQUE ' if unique else ''}INDEX {name} ON {BUILD} USING {method}")

    at_once([create_index(*build) for build in builds])
    renames = []
    for i, (name, kind, _definition) in enumerate(constraints):
        constraint = "PRIMARY KEY" if kind == "p" else "UNIQUE"
        _execute(f"ALTER TABLE {BUILD} ADD CONSTRAINT scorecell_swap_c{i} {constraint} USING INDEX scorecell_swap_c{i}")
        renames.append(f"ALTER TABLE {CELLS} RENAME CONSTRAINT scorecell_swap_c{i} TO {quote(name)}")
    for i, (name, _unique, _definition) in enumerate(indexes):
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
    # The planner's statistics went with the old table; readers should not wait for autovacuum. They
    # filter on the keys only.
    _execute(f"ANALYZE {CELLS} (brand_id, period)")
    return cells


@transaction.atomic
def scores_recompute_full() -> dict[str, int]:
    """Rebuild every score cell from the ratings table, in one transaction."""
    mark = _begin()
    if _is_postgresql():
        cells = _build_and_swap()
    else:
        _execute(f"DELETE FROM {CELLS}")
        cells = _build_months(CELLS) + _build_coarser(CELLS)
    _advance(mark)
    transaction.on_commit(_new_generation)
    return {"cells": cells, "periods": ScoreCell.objects.values("period").distinct().count()}


# --- versions: what caches of reads key on ------------------------------------------------------------


def scores_versions(codes: list[int]) -> dict[int, str]:
    """For each period code, a token that changes whenever a job commits a change to one of its cells
    (one cache round trip when they are all set)."""
    keys = {code: PERIOD_TOKEN_KEY.format(code=code) for code in codes}
    found = cache.get_many([GENERATION_KEY, *keys.values()])
    fresh = {key: uuid.uuid4().hex for key in [GENERATION_KEY, *keys.values()] if key not in found}
    for key, token in fresh.items():
        # Another process may have set it meanwhile: keep the first one, so every reader agrees.
        if not cache.add(key, token, None):
            fresh[key] = cache.get(key, token)
    found.update(fresh)
    return {code: f"{found[GENERATION_KEY]}.{found[key]}" for code, key in keys.items()}


def scores_version(code: int) -> str:
    """A token that changes whenever a job commits a change to a cell of period `code`."""
    return scores_versions([code])[code]


def _periods_changed(codes: list[int]) -> None:
    cache.delete_many([PERIOD_TOKEN_KEY.format(code=code) for code in codes])
    pagecache.changed("scores")


def _new_generation() -> None:
    cache.delete(GENERATION_KEY)
    pagecache.changed("scores")
