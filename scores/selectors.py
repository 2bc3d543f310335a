"""Reads over score cells: the prior of a period, rankings, a brand's monthly series and summary.

Everything that depends on the whole period — the mean C, the prior weight m, the Bayesian score, the
Wilson bound, ranks and rank changes — is derived here, in SQL, from the stored counts and each
brand's *current* organization, domain and status: a revoked brand or a moved organization is right
at the next read. Results are cached per scores version of the periods read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils.translation import gettext_lazy as _

from brands.models import Brand
from brands.selectors import brand_public_version
from config.errors import ApplicationError
from organizations.models import Organization
from organizations.selectors import organization_version
from scores import periods
from scores.models import GROUPS, ScoreCell
from scores.services import CELLS, scores_version, scores_versions

Z = 1.96
STATS_CACHE_SECONDS = 24 * 3600


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _float(expression: str) -> str:
    return f"CAST({expression} AS DOUBLE PRECISION)"


def _literal(value: float | None) -> str:
    """A float computed here (never user input) as an SQL constant."""
    return _float(repr(float(value or 0.0)))


def _measure(alias: str, group: str, measure: str) -> str:
    """SQL: one measure of a cell for a rater group, or for all raters (`group` "": the groups' sum)."""
    if group:
        return f"{alias}.{group}_{measure}"
    return "(" + " + ".join(f"{alias}.{g}_{measure}" for g in GROUPS) + ")"


def _grade_total(alias: str, group: str, power: int = 1) -> str:
    """SQL: the sum of the overall grades (power 1) or of their squares (power 2) in a cell."""
    return " + ".join(f"{grade**power} * {_measure(alias, group, f'grade_{grade}')}" for grade in range(1, 6))


# --- the prior of a period: C and the estimated m -------------------------------------------------------


@dataclass(frozen=True)
class Prior:
    """The period mean C and the prior weight m of one period and rater group.

    `within` is the pooled within-brand variance σ²w of the grades (None without two ratings of one
    brand); `estimated` says whether m was estimated (False: ``SCORE_PRIOR_WEIGHT`` overrides it).
    """

    m: float
    mean: float | None
    within: float | None
    estimated: bool


@dataclass(frozen=True)
class PeriodSums:
    """Sums over a period's cells for one rater group: brands k, ratings N, grade sum S, sum of squared
    grades Q, Σ (brand sum)²/n and Σ n² — all the one-way ANOVA needs."""

    brands: int
    n: int
    total: int
    squares: int
    between: float
    n_squares: float


def prior_estimate(sums: PeriodSums) -> Prior:
    """C and m of a period from its sums: m = σ²w / τ², the one-way random-effects (ANOVA) estimator.

    σ²w = MSW, τ² = (MSB − MSW) / n₀ with n₀ = (N − Σn²/N) / (k − 1). Where brands do not differ more
    than their samples explain (τ² ≤ 0, or too few brands), m takes its upper bound.
    """
    low, high = settings.SCORE_PRIOR_WEIGHT_MIN, settings.SCORE_PRIOR_WEIGHT_MAX
    k, n = sums.brands, sums.n
    mean = sums.total / n if n else None
    within = (sums.squares - sums.between) / (n - k) if n > k else None
    if settings.SCORE_PRIOR_WEIGHT is not None:
        return Prior(m=float(settings.SCORE_PRIOR_WEIGHT), mean=mean, within=within, estimated=False)
    m = high
    if k > 1 and within is not None:
        between_mean_square = (sums.between - sums.total * sums.total / n) / (k - 1)
        n0 = (n - sums.n_squares / n) / (k - 1)
        tau2 = (between_mean_square - within) / n0 if n0 > 0 else 0.0
        if tau2 > 0:
            m = min(high, max(low, within / tau2))
    return Prior(m=m, mean=mean, within=within, estimated=True)


def _period_sums(codes: list[int], group: str) -> dict[int, PeriodSums]:
    # Each cell's n and grade sums are added up once (materialized), not once per aggregate.
    rows = _fetch(
        f"""
        WITH x AS MATERIALIZED (
            SELECT c.period, {_measure("c", group, "n")} AS n, {_grade_total("c", group)} AS total,
                   {_grade_total("c", group, 2)} AS squares
            FROM {CELLS} c WHERE c.period IN ({", ".join(["%s"] * len(codes))})
        )
        SELECT x.period, COUNT(*), SUM(x.n), SUM(x.total), SUM(x.squares),
               SUM({_float("x.total")} * x.total / x.n), SUM({_float("x.n")} * x.n)
        FROM x WHERE x.n > 0
        GROUP BY x.period
        """,
        list(codes),
    )
    return {row[0]: PeriodSums(*(int(v) for v in row[1:5]), float(row[5]), float(row[6])) for row in rows}


def period_priors(*, codes: list[int], group: str = "") -> dict[int, Prior]:
    """The prior of each period code (one query for those not cached since their cells last changed)."""
    versions = scores_versions(codes)
    keys = {code: f"scores:prior:{code}:{group}:{versions[code]}" for code in codes}
    cached = cache.get_many(list(keys.values()))
    priors = {code: cached[key] for code, key in keys.items() if key in cached}
    missing = [code for code in codes if code not in priors]
    if missing:
        sums = _period_sums(missing, group)
        empty = PeriodSums(0, 0, 0, 0, 0.0, 0.0)
        fresh = {code: prior_estimate(sums.get(code, empty)) for code in missing}
        cache.set_many({keys[code]: prior for code, prior in fresh.items()}, STATS_CACHE_SECONDS)
        priors.update(fresh)
    return priors


# --- per-row statistics ---------------------------------------------------------------------------------


COUNT_FIELDS = ["n", *(f"grade_{grade}" for grade in range(5, 0, -1)), "bad_n", "verified_n"]
STAT_FIELDS = ["mean", "score", "wilson", "net_score", "bad_rate", "verified_share"]


def _count_columns(alias: str, group: str) -> str:
    """SQL: a cell's counts for one rater group or all raters, named as COUNT_FIELDS."""
    return ", ".join(f"{_measure(alias, group, field)} AS {field}" for field in COUNT_FIELDS)


def _stat_columns(alias: str, m: str, mean: str, fields: list[str] = STAT_FIELDS) -> str:
    """SQL: mean, score, Wilson bound, net score, bad-review rate and verified share (STAT_FIELDS, or those of
    them in `fields`) of a row `alias` that has the COUNT_FIELDS columns; `m` and `mean` are SQL for the
    period's prior weight and mean."""
    n = _float(f"{alias}.n")
    total = _float(" + ".join(f"{grade} * {alias}.grade_{grade}" for grade in range(1, 6)))
    positive = f"({_float(f'{alias}.grade_5 + {alias}.grade_4')} / {n})"
    z2 = Z * Z
    wilson = (
        f"(({positive} + {z2 / 2} / {n} - {Z} * sqrt({positive} * (1 - {positive}) / {n} + {z2 / 4} / ({n} * {n})))"
        f" / (1 + {z2} / {n}))"
    )
    columns = [
        f"{total} / {n}",
        f"({total} + {m} * {mean}) / ({n} + {m})",
        # p = 0 has lower bound 0 exactly; the formula would leave rounding noise there.
        f"CASE WHEN {alias}.grade_5 + {alias}.grade_4 = 0 THEN 0.0 ELSE {wilson} END",
        f"100.0 * ({alias}.grade_5 - {alias}.grade_2 - {alias}.grade_1) / {n}",
        f"{_float(f'{alias}.bad_n')} / {n}",
        f"{_float(f'{alias}.verified_n')} / {n}",
    ]
    return ", ".join(f"{sql} AS {name}" for sql, name in zip(columns, STAT_FIELDS, strict=True) if name in fields)


ROW_FIELDS = ["n", *(f"grade_{grade}" for grade in range(5, 0, -1)), *STAT_FIELDS]
# What a rank orders by; the other statistics are computed for the rows read only.
RANK_FIELDS = ["score", "wilson"]


# --- rankings ---------------------------------------------------------------------------------------------


@dataclass
class RankingRow:
    brand_id: int
    code: str
    name: str
    organization_id: int
    organization: str
    domain: str
    n: int
    grade_5: int
    grade_4: int
    grade_3: int
    grade_2: int
    grade_1: int
    mean: float
    score: float | None  # None below the minimum n: no score, no rank
    wilson: float
    net_score: float
    bad_rate: float
    verified_share: float  # share of the counted ratings made with a rating code
    rank: int | None
    previous_rank: int | None

    @property
    def rank_change(self) -> int | None:
        """Places gained since the previous period (positive = moved up), None if either rank is missing."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank

    @property
    def grades(self) -> dict[str, int]:
        return {str(grade): getattr(self, f"grade_{grade}") for grade in range(5, 0, -1)}


PUBLIC = ", ".join(f"'{status}'" for status in Brand.PUBLIC_STATUSES)


class Ranking:
    """The public brands of one period and scope, ranked; a lazy sequence for Django's Paginator.

    Ranks are shared by identical records (same score, Wilson bound and n: 1, 2, 2, 4) and are within
    the scope (a domain, the children of a parent organization, or all). Brands below
    ``SCORE_MIN_RATINGS`` follow, unranked, by n. The rank change compares with the previous period of
    the same kind, in the same scope.
    """

    def __init__(
        self,
        *,
        period: str,
        domain: str = "",
        parent: int | None = None,
        rater_group: str = "",
        subtree: int | None = None,
    ):
        self.period, self.domain, self.parent, self.group = period, domain, parent, rater_group
        # The dashboard's scope: every brand in an organization's subtree (the organization included).
        self.subtree = subtree
        self.code = periods.period_code(period)
        self.previous_code = _previous_code(period)

    def _subtree_path(self) -> str:
        if not hasattr(self, "_path"):
            self._path = Organization.objects.filter(pk=self.subtree).values_list("path", flat=True).first() or "-"
        return self._path

    @cached_property
    def priors(self) -> dict[int, Prior]:
        codes = [self.code] + ([self.previous_code] if self.previous_code is not None else [])
        return period_priors(codes=codes, group=self.group)

    @property
    def prior(self) -> Prior:
        """The m and C of the ranked period."""
        return self.priors[self.code]

    def version(self) -> str:
        """What everything this ranking shows depends on (organization names included)."""
        codes = [self.code] + ([self.previous_code] if self.previous_code is not None else [])
        scores = ":".join(scores_versions(codes).values())
        return f"{scores}:{brand_public_version()}:{organization_version()}"

    def _base(self, code: int) -> tuple[str, list]:
        """SQL and parameters of the scope's public brands with counted ratings in period `code`."""
        scope, params = "", [code]
        if self.domain:
            scope += " AND o.domain = %s"
            params.append(self.domain)
        if self.parent:
            scope += (
                " AND EXISTS (SELECT 1 FROM organizations_organization p WHERE p.id = %s"
                " AND o.depth = p.depth + 1 AND substr(o.path, 1, length(p.path)) = p.path)"
            )
            params.append(self.parent)
        if self.subtree:
            # A constant prefix, so the planner estimates the subtree's size (with the path of a subquery it
            # guessed two rows and joined the previous period's ranks pair by pair: seconds at 10k brands).
            scope += " AND o.path LIKE %s"
            params.append(self._subtree_path() + "%")
        # Narrow rows (the brand's id and code, the counts): the rank sorts them all; names are joined
        # for the page only.
        organizations = "JOIN organizations_organization o ON o.id = b.organization_id" if scope else ""
        sql = f"""
            SELECT c.brand_id, b.code, {_count_columns("c", self.group)}
            FROM {CELLS} c
            JOIN brands_brand b ON b.id = c.brand_id
            {organizations}
            WHERE c.period = %s AND {_measure("c", self.group, "n")} > 0 AND b.status IN ({PUBLIC}){scope}
        """
        return sql, params

    def _ranked(self, name: str, code: int) -> tuple[str, list]:
        """CTEs `<name>_base` and `<name>`: the scope's rows of period `code` with their statistics and rank.

        The base is materialized so each row's group sums are added once, not once per statistic. Only
        what the rank orders by is computed here for every row; `_row_columns` gives the rest for the
        rows read.
        """
        prior = self.priors[code]
        base, params = self._base(code)
        minimum = int(settings.SCORE_MIN_RATINGS)
        sql = f"""
            {name}_base AS MATERIALIZED ({base}),
            {name} AS (
                SELECT s.*, CASE WHEN s.n >= {minimum} THEN RANK() OVER (
                           PARTITION BY s.n >= {minimum} ORDER BY s.score DESC, s.wilson DESC, s.n DESC) END AS rank
                FROM (
                    SELECT x.*, {_stat_columns("x", _literal(prior.m), _literal(prior.mean), RANK_FIELDS)}
                    FROM {name}_base x
                ) s
            )
        """
        return sql, params

    def _row_columns(self, alias: str) -> str:
        """SQL: the ROW_FIELDS of rows `alias` of the ranked CTE of this period."""
        prior = self.priors[self.code]
        counts = ", ".join(f"{alias}.{name}" for name in ROW_FIELDS if name not in STAT_FIELDS)
        return f"{counts}, {_stat_columns(alias, _literal(prior.m), _literal(prior.mean))}"

    def _rows(self, limit: int | None = None, offset: int = 0, brand_id: int | None = None) -> list[RankingRow]:
        ctes, params = self._ranked("r", self.code)
        join, previous_rank = "", "NULL"
        if self.previous_code is not None:
            previous_ctes, previous_params = self._ranked("p", self.previous_code)
            ctes += ", " + previous_ctes
            params += previous_params
            join, previous_rank = "LEFT JOIN p ON p.brand_id = r.brand_id", "p.rank"
        where = page = ""
        if brand_id is not None:
            where = " WHERE r.brand_id = %s"
            params.append(brand_id)
        if limit is not None:
            page = " LIMIT %s OFFSET %s"
            params += [limit, offset]
        order = "r.rank IS NULL, r.rank, r.n DESC, r.code"
        rows = _fetch(
            f"""
            WITH {ctes}
            SELECT r.brand_id, r.code, b.name, o.id, o.name, o.domain,
                   {self._row_columns("r")}, r.rank, r.previous_rank, r.total
            FROM (
                SELECT r.*, {previous_rank} AS previous_rank, (SELECT COUNT(*) FROM r_base) AS total
                FROM r {join}{where} ORDER BY {order}{page}
            ) r
            JOIN brands_brand b ON b.id = r.brand_id
            JOIN organizations_organization o ON o.id = b.organization_id
            ORDER BY {order}
            """,
            params,
        )
        result = []
        for row in rows:
            item = RankingRow(*row[:-1])
            if item.rank is None:
                item.score = None
            result.append(item)
        if rows and brand_id is None:
            self._total = rows[0][-1]  # the scope's rows, counted before the page was cut
        return result

    def prefetch(self, *, offset: int, limit: int) -> None:
        """Read one page and the scope's total in one query, for the paginator that counts, then slices."""
        self._page = (offset, self._rows(limit, offset))

    def count(self) -> int:
        if getattr(self, "_total", None) is not None:
            return self._total
        scope = f"{self.domain}|{self.parent or ''}|{self.group}|{self.subtree or ''}"
        key = f"scores:ranking-count:{self.period}|{scope}:{self.version()}"

        def count_rows() -> int:
            sql, params = self._base(self.code)
            return _fetch(f"SELECT COUNT(*) FROM ({sql}) x", params)[0][0]

        return cache.get_or_set(key, count_rows, 3600)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            start = index.start or 0
            limit = None if index.stop is None else max(0, index.stop - start)
            prefetched = getattr(self, "_page", None)
            if prefetched and prefetched[0] == start and limit is not None and limit <= len(prefetched[1]):
                return prefetched[1][:limit]
            return self._rows(limit, start)
        return self._rows(1, index)[0]

    def __iter__(self):
        return iter(self._rows())


def _previous_code(period: str) -> int | None:
    previous = periods.period_previous(period)
    try:
        return None if previous is None else periods.period_code(previous)
    except ApplicationError:  # before the year 1000
        return None


def ranking(
    *, period: str, domain: str = "", parent: int | None = None, rater_group: str = "", subtree: int | None = None
) -> Ranking:
    return Ranking(period=period, domain=domain, parent=parent, rater_group=rater_group, subtree=subtree)


def ranking_periods() -> list[str]:
    """Periods that have cells, newest first within each kind: all time, years, quarters, months."""
    key = f"scores:periods:{scores_version(periods.ALL)}"

    def read() -> list[str]:
        codes = ScoreCell.objects.values_list("period", flat=True).distinct()
        order = {periods.Kind.ALL: 0, periods.Kind.YEAR: 1, periods.Kind.QUARTER: 2, periods.Kind.MONTH: 3}
        return [periods.period_key(code) for code in sorted(codes, key=lambda c: (order[periods.code_kind(c)], -c))]

    return cache.get_or_set(key, read, 3600)


# --- one brand: its monthly series and its summary -----------------------------------------------------------


@dataclass
class SeriesPoint:
    period: str
    n: int
    mean: float
    score: float
    low: float | None  # the score's 95% interval: score ± 1.96·√(σ²w / (n + m)), within 1 to 5
    high: float | None
    wilson: float
    net_score: float
    bad_rate: float
    verified_share: float
    m: float
    C: float


def brand_series_version(*, code: str) -> str:
    """Changes whenever a job writes any cell (each month's prior depends on every brand's cells) or a
    brand's status changes (a brand no longer public has no public series)."""
    return f"{code}:{scores_version(periods.ALL)}:{brand_public_version()}"


def brand_series(*, brand: Brand, rater_group: str = "") -> list[SeriesPoint]:
    """A brand's months with ratings, oldest first, each scored against its own month's prior."""
    low, high = periods.CODE_RANGES[periods.Kind.MONTH]
    n = _measure("c", rater_group, "n")
    months = [
        code
        for (code,) in _fetch(
            f"SELECT c.period FROM {CELLS} c WHERE c.brand_id = %s AND c.period BETWEEN %s AND %s AND {n} > 0",
            [brand.pk, low, high],
        )
    ]
    if not months:
        return []
    priors = period_priors(codes=months, group=rater_group)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(months))
    params = [v for code in months for v in (code, priors[code].m, priors[code].mean, priors[code].within or 0.0)]
    rows = _fetch(
        f"""
        WITH p (period, m, c, within) AS (VALUES {values})
        SELECT x.period, x.n, {_stat_columns("x", "x.m", "x.c")}, x.within, x.m, x.c
        FROM (
            SELECT c.period, {_count_columns("c", rater_group)}, p.m, p.c, p.within
            FROM {CELLS} c JOIN p ON p.period = c.period WHERE c.brand_id = %s
        ) x
        ORDER BY x.period
        """,
        params + [brand.pk],
    )
    return [_series_point(*row) for row in rows]


def _series_point(code, count, mean, score, wilson, net, bad, verified, within, m, c) -> SeriesPoint:
    """One month of a brand's series, from a row of the series query; the interval is
    score ± 1.96·√(σ²w / (n + m)), and like a mean of grades it lies between 1 and 5."""
    half = Z * math.sqrt(within / (count + m)) if within else None
    return SeriesPoint(
        period=periods.period_key(code),
        n=count,
        mean=mean,
        score=score,
        low=None if half is None else max(1.0, score - half),
        high=None if half is None else min(5.0, score + half),
        wilson=wilson,
        net_score=net,
        bad_rate=bad,
        verified_share=verified,
        m=m,
        C=c,
    )


def brand_score_summary(*, brand: Brand, period: str = "all") -> RankingRow | None:
    """A public brand's all-raters row in one period's overall ranking (rank None below the minimum n),
    or None if it has no counted rating there or is not public."""
    ranked = Ranking(period=period)
    key = f"scores:brand-summary:{brand.pk}:{period}:{ranked.version()}"
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    if not ScoreCell.objects.filter(brand=brand, period=ranked.code).exists():
        cache.set(key, 0, 3600)
        return None
    rows = ranked._rows(brand_id=brand.pk)
    row = rows[0] if rows else None
    cache.set(key, row or 0, 3600)
    return row


def score_is_tentative(row: RankingRow, prior: Prior) -> bool:
    """Fewer ratings than the prior weight: the period mean weighs more than the brand's own ratings."""
    return row.n < prior.m


# --- the CSV ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    meaning: str


# The CSV columns, in order, with their meaning: the field dictionary shown beside the download.
CSV_FIELDS = [
    Field("rank", _("Rank in the chosen scope; equal records share a rank; empty if unranked")),
    Field("rank_change", _("Places gained since the previous period of the same kind (negative: lost)")),
    Field("code", _("Brand code, as on the QR poster")),
    Field("brand", _("Brand name")),
    Field("organization", _("Organization that owns the brand")),
    Field("domain", _("Domain of that organization")),
    Field("n", _("Number of counted ratings (flagged and excluded ratings are not counted)")),
    Field("mean", _("Mean overall grade, 1 to 5")),
    Field("score", _("Ranking score: Bayesian average (n·mean + m·C)/(n + m); empty if unranked")),
    Field("wilson", _("Wilson lower bound (95%) of the share of grades 4 and 5")),
    Field("net_score", _("Net score: share of grade 5 minus share of grades 1 and 2, in percentage points")),
    Field("bad_rate", _("Share of bad reviews (grades 1 and 2)")),
    Field("verified_share", _("Share of the counted ratings made with a one-time rating code (一次一评)")),
    Field("grade_5", _("Ratings of grade 5, very satisfied")),
    Field("grade_4", _("Ratings of grade 4, satisfied")),
    Field("grade_3", _("Ratings of grade 3, basically satisfied")),
    Field("grade_2", _("Ratings of grade 2, dissatisfied")),
    Field("grade_1", _("Ratings of grade 1, very dissatisfied")),
    Field("status", _("'ranked', or 'not enough ratings' below the minimum number of ratings")),
    Field("m", _("Prior weight m of the period and rater group (estimated from the period's ratings)")),
    Field("C", _("Mean grade C of all counted ratings in the period and rater group")),
]


def ranking_csv_values(row: RankingRow, prior: Prior) -> list:
    ranked = row.rank is not None
    change = row.rank_change
    return [
        row.rank if ranked else "",
        "" if change is None else change,
        row.code,
        row.name,
        row.organization,
        row.domain,
        row.n,
        round(row.mean, 4),
        round(row.score, 4) if ranked else "",
        round(row.wilson, 4),
        round(row.net_score, 2),
        round(row.bad_rate, 4),
        round(row.verified_share, 4),
        row.grade_5,
        row.grade_4,
        row.grade_3,
        row.grade_2,
        row.grade_1,
        "ranked" if ranked else "not enough ratings",
        round(prior.m, 4),
        "" if prior.mean is None else round(prior.mean, 4),
    ]


def grade_bar(row: RankingRow) -> list[dict]:
    """Segments of the grade distribution bar (grade 5 first), as offsets and widths in percent."""
    segments, offset = [], 0.0
    for grade in range(5, 0, -1):
        count = getattr(row, f"grade_{grade}")
        width = 100.0 * count / row.n if row.n else 0.0
        if count:
            segments.append({"grade": grade, "count": count, "x": round(offset, 3), "width": round(width, 3)})
        offset += width
    return segments


# --- directory cards: a page of brands' all-time scores ---------------------------------------------------


@dataclass(frozen=True)
class CardScore:
    """A brand's all-time, all-raters figures for its directory card."""

    n: int  # counted ratings; 0: none yet
    score: float | None  # None below SCORE_MIN_RATINGS, as in the rankings


def brand_card_scores(brand_ids: list[int]) -> dict[int, CardScore]:
    """The all-time score and n of each brand, in one query for those not cached since the all-time cells
    last changed (and one more for the period's prior, when one of them has ratings and it is not cached).

    The score is the rankings' Bayesian average, (total + m·C)/(n + m) with the all-time m and C, so a card
    shows what the brand page and the rankings show.
    """
    version = scores_version(periods.ALL)
    keys = {pk: f"scores:card:{pk}:{version}" for pk in brand_ids}
    cached = cache.get_many(list(keys.values()))
    result = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = [pk for pk in brand_ids if pk not in result]
    if missing:
        rows = _fetch(
            f"SELECT c.brand_id, {_measure('c', '', 'n')}, {_grade_total('c', '')} FROM {CELLS} c"
            f" WHERE c.period = %s AND c.brand_id IN ({', '.join(['%s'] * len(missing))})",
            [periods.ALL, *missing],
        )
        counted = [(pk, n, total) for pk, n, total in rows if n]
        prior = period_priors(codes=[periods.ALL])[periods.ALL] if counted else None
        fresh = {pk: CardScore(n=0, score=None) for pk in missing}
        for pk, n, total in counted:
            ranked = n >= settings.SCORE_MIN_RATINGS
            score = (float(total) + prior.m * (prior.mean or 0.0)) / (n + prior.m) if ranked else None
            fresh[pk] = CardScore(n=n, score=score)
        cache.set_many({keys[pk]: card for pk, card in fresh.items()}, STATS_CACHE_SECONDS)
        result.update(fresh)
    return result


# --- several brands at once: the secretary's workspace home ---------------------------------------------------
# Batched forms of the one-brand reads above, so a page of many brands costs a fixed number of queries.


def brand_score_summaries(*, brand_ids: list[int], period: str = "all") -> dict[int, RankingRow]:
    """`brand_score_summary` of several brands: each public brand's all-raters row in the period's overall
    ranking (rank None below the minimum n), keyed by brand id; a brand with no counted rating there, or
    not public, is left out. One query for the brands not cached (the cache entries are the ones
    `brand_score_summary` reads and writes), one more for the period's prior when it is not cached."""
    ranked = Ranking(period=period)
    version = ranked.version()
    keys = {pk: f"scores:brand-summary:{pk}:{period}:{version}" for pk in brand_ids}
    cached = cache.get_many(list(keys.values()))
    rows = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = [pk for pk in brand_ids if pk not in rows]
    if missing:
        ctes, params = ranked._ranked("r", ranked.code)
        join, previous_rank = "", "NULL"
        if ranked.previous_code is not None:
            previous_ctes, previous_params = ranked._ranked("p", ranked.previous_code)
            ctes += ", " + previous_ctes
            params += previous_params
            join, previous_rank = "LEFT JOIN p ON p.brand_id = r.brand_id", "p.rank"
        found = _fetch(
            f"""
            WITH {ctes}
            SELECT r.brand_id, r.code, b.name, o.id, o.name, o.domain,
                   {ranked._row_columns("r")}, r.rank, {previous_rank}
            FROM r {join}
            JOIN brands_brand b ON b.id = r.brand_id
            JOIN organizations_organization o ON o.id = b.organization_id
            WHERE r.brand_id IN ({", ".join(["%s"] * len(missing))})
            """,
            params + missing,
        )
        fresh: dict[int, RankingRow | int] = {pk: 0 for pk in missing}  # 0: none (a cached "no row")
        for values in found:
            row = RankingRow(*values)
            if row.rank is None:
                row.score = None
            fresh[row.brand_id] = row
        cache.set_many({keys[pk]: row for pk, row in fresh.items()}, 3600)
        rows.update(fresh)
    return {pk: row for pk, row in rows.items() if row}


@dataclass(frozen=True)
class GroupScore:
    """One rater group's figures for a brand in a period, as that group's ranking shows them."""

    n: int
    mean: float
    score: float | None  # None below SCORE_MIN_RATINGS, as in the rankings


def brand_group_scores(*, brand_ids: list[int], period: str = "all") -> dict[int, dict[str, GroupScore]]:
    """Each public brand's n, mean and score per rater group in one period, each group scored against its
    own prior: what ``Ranking(period=..., rater_group=group)`` shows for the brand, without ranking every
    brand. One query for all the brands and groups, and one per group for its prior when not cached; a
    group without a counted rating is left out."""
    if not brand_ids:
        return {}
    code = periods.period_code(period)
    ids = ", ".join(["%s"] * len(brand_ids))
    selects, params = [], []
    for group in GROUPS:
        prior = period_priors(codes=[code], group=group)[code]
        selects.append(
            f"""
            SELECT '{group}', x.brand_id, x.n, {_stat_columns("x", _literal(prior.m), _literal(prior.mean))}
            FROM (
                SELECT c.brand_id, {_count_columns("c", group)}
                FROM {CELLS} c JOIN brands_brand b ON b.id = c.brand_id
                WHERE c.period = %s AND {_measure("c", group, "n")} > 0 AND b.status IN ({PUBLIC})
                      AND c.brand_id IN ({ids})
            ) x
            """
        )
        params += [code, *brand_ids]
    result: dict[int, dict[str, GroupScore]] = {}
    minimum = int(settings.SCORE_MIN_RATINGS)
    for group, brand_id, n, mean, score, *_rest in _fetch(" UNION ALL ".join(selects), params):
        result.setdefault(brand_id, {})[group] = GroupScore(n=n, mean=mean, score=score if n >= minimum else None)
    return result


def brand_series_many(*, brand_ids: list[int], months: list[str]) -> dict[int, list[SeriesPoint]]:
    """`brand_series` (all raters) of several brands, within the given months ("YYYY-MM"): each brand's
    months with ratings, oldest first, each point the same as brand_series gives; a brand with none is left
    out. One query for the points, and one for the months' priors when they are not cached."""
    if not brand_ids or not months:
        return {}
    codes = [periods.period_code(month) for month in months]
    priors = period_priors(codes=codes)
    # A month without any rating has no mean, and none of these brands has a point in it.
    codes = [code for code in codes if priors[code].mean is not None]
    if not codes:
        return {}
    values = ", ".join(["(%s, %s, %s, %s)"] * len(codes))
    params = [v for code in codes for v in (code, priors[code].m, priors[code].mean, priors[code].within or 0.0)]
    rows = _fetch(
        f"""
        WITH p (period, m, c, within) AS (VALUES {values})
        SELECT x.brand_id, x.period, x.n, {_stat_columns("x", "x.m", "x.c")}, x.within, x.m, x.c
        FROM (
            SELECT c.brand_id, c.period, {_count_columns("c", "")}, p.m, p.c, p.within
            FROM {CELLS} c JOIN p ON p.period = c.period
            WHERE c.brand_id IN ({", ".join(["%s"] * len(brand_ids))}) AND {_measure("c", "", "n")} > 0
        ) x
        ORDER BY x.brand_id, x.period
        """,
        params + list(brand_ids),
    )
    series: dict[int, list[SeriesPoint]] = {}
    for brand_id, *row in rows:
        series.setdefault(brand_id, []).append(_series_point(*row))
    return series


# --- a case adoption: the adopting brand's mean grade before and after ------------------------------------

ADOPTION_MONTHS_BEFORE = 3
# Below this many ratings on either side, the case page says the difference may be chance.
ADOPTION_FEW_RATINGS = 30


def _months_back(code: int, months: int) -> int:
    """The month code `months` calendar months before month code `code` (202603, 3 → 202512)."""
    index = (code // 100) * 12 + code % 100 - 1 - months
    return (index // 12) * 100 + index % 12 + 1


def adoption_effects(*, adoptions: list[tuple[Brand, date]]) -> list[dict]:
    """`adoption_effect` of several (adopting brand, adoption day) pairs, in their order: one query for those
    not cached since the all-time cells last changed (any fold that touches a month touches them)."""
    version = scores_version(periods.ALL)
    keys = [f"scores:adoption:{brand.pk}:{since.year * 100 + since.month}:{version}" for brand, since in adoptions]
    cached = cache.get_many(keys)
    missing = [(brand, since) for (brand, since), key in zip(adoptions, keys, strict=True) if key not in cached]
    if missing:
        firsts = [_months_back(since.year * 100 + since.month, ADOPTION_MONTHS_BEFORE) for _brand, since in missing]
        ids = sorted({brand.pk for brand, _since in missing})
        n = _measure("c", "", "n")
        rows = _fetch(
            f"SELECT c.brand_id, c.period, {n}, {_grade_total('c', '')}, {_grade_total('c', '', power=2)}"
            f" FROM {CELLS} c WHERE c.brand_id IN ({', '.join(['%s'] * len(ids))})"
            f" AND c.period BETWEEN %s AND %s AND {n} > 0 ORDER BY c.period",
            [*ids, min(firsts), periods.CODE_RANGES[periods.Kind.MONTH][1]],
        )
        fresh = {}
        for (brand, since), key in zip(adoptions, keys, strict=True):
            if key not in cached:
                months = [(period, *sums) for brand_id, period, *sums in rows if brand_id == brand.pk]
                fresh[key] = _adoption_effect(months, adopted=since.year * 100 + since.month)
        cache.set_many(fresh, STATS_CACHE_SECONDS)
        cached.update(fresh)
    return [cached[key] for key in keys]


def adoption_effect(*, brand: Brand, since: date) -> dict:
    """A brand's mean overall grade (counted ratings, all raters) in the 3 calendar months before the month of
    `since` and in the months after it, with the change and its 95% interval.

    Read from the brand's monthly cells, the ones `brand_series` reads: a side's mean is the series' monthly
    means weighted by n. The month of `since` itself is left out, since its cell mixes ratings from before and
    after. The interval is Welch's, by the normal approximation: change ± 1.96·√(s₁²/n₁ + s₂²/n₂), with each
    side's sample variance s² from its grade counts; None unless each side has at least two ratings.
    Returns {"before": side, "after": side, "change", "low", "high", "few"}, a side being {"first", "last"
    (its months as period keys; "after" runs to its last month with ratings, None if none), "n", "mean"
    (None if n is 0)}; "few" when either side has fewer than ADOPTION_FEW_RATINGS.
    """
    return adoption_effects(adoptions=[(brand, since)])[0]


def _adoption_effect(months: list[tuple[int, int, int, int]], *, adopted: int) -> dict:
    """`adoption_effect` from a brand's months (period, n, sum of grades, sum of squared grades), oldest first,
    for an adoption in month code `adopted`."""
    first = _months_back(adopted, ADOPTION_MONTHS_BEFORE)
    after_months = [m for m in months if m[0] > adopted]
    windows = {
        "before": (first, _months_back(adopted, 1), [m for m in months if first <= m[0] < adopted]),
        "after": (_months_back(adopted, -1), after_months[-1][0] if after_months else None, after_months),
    }
    sides = {}
    variances = {}
    for name, (window_first, window_last, chosen) in windows.items():
        count = sum(m[1] for m in chosen)
        total = sum(float(m[2]) for m in chosen)
        squares = sum(float(m[3]) for m in chosen)
        mean = total / count if count else None
        variances[name] = max((squares - count * mean * mean) / (count - 1), 0.0) if count > 1 else None
        sides[name] = {
            "first": periods.period_key(window_first),
            "last": periods.period_key(window_last) if window_last else None,
            "n": count,
            "mean": mean,
        }
    before, after = sides["before"], sides["after"]
    change = low = high = None
    if before["n"] and after["n"]:
        change = after["mean"] - before["mean"]
        if variances["before"] is not None and variances["after"] is not None:
            half = Z * math.sqrt(variances["before"] / before["n"] + variances["after"] / after["n"])
            low, high = change - half, change + half
    return {
        "before": before,
        "after": after,
        "change": change,
        "low": low,
        "high": high,
        "few": min(before["n"], after["n"]) < ADOPTION_FEW_RATINGS,
    }
