"""Period keys as people and URLs write them ("2026-11", "2026-Q4", "2026", "all") and as cells store them.

Cells store a period as one integer, so rollups are integer arithmetic and a period's finer periods
are one contiguous range of the (brand, period) key:

    month   "2026-11"  → 202611   (six digits)
    quarter "2026-Q4"  → 20264    (five digits: year × 10 + quarter)
    year    "2026"     → 2026     (four digits)
    all     "all"      → 0
"""

from __future__ import annotations

import re
from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _

from config.errors import ApplicationError

PERIOD_PATTERN = re.compile(r"^(?:all|(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?)$")
ALL = 0


class Kind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")
    ALL = "all", _("All time")


# The codes of each kind, as an inclusive range (years 1000–9999).
CODE_RANGES = {
    Kind.MONTH: (100001, 999912),
    Kind.QUARTER: (10001, 99994),
    Kind.YEAR: (1000, 9999),
    Kind.ALL: (ALL, ALL),
}


def period_kind(period: str) -> str:
    """The kind of a period key, or ApplicationError on the `period` field if it is malformed."""
    match = PERIOD_PATTERN.match(period or "")
    if not match or (period != "all" and int(period[:4]) < 1000):
        raise ApplicationError(str(_("Use YYYY-MM, YYYY-Qn, YYYY or all.")), field="period")
    if period == "all":
        return Kind.ALL
    if match.group(2):
        return Kind.MONTH
    if match.group(3):
        return Kind.QUARTER
    return Kind.YEAR


def period_code(period: str) -> int:
    """The stored code of a period key ("2026-11" → 202611)."""
    kind = period_kind(period)
    if kind == Kind.ALL:
        return ALL
    year = int(period[:4])
    if kind == Kind.MONTH:
        return year * 100 + int(period[5:7])
    if kind == Kind.QUARTER:
        return year * 10 + int(period[-1])
    return year


def code_kind(code: int) -> str:
    for kind, (low, high) in CODE_RANGES.items():
        if low <= code <= high:
            return kind
    raise ValueError(code)


def period_key(code: int) -> str:
    """The period key of a stored code (202611 → "2026-11")."""
    kind = code_kind(code)
    if kind == Kind.MONTH:
        return f"{code // 100}-{code % 100:02d}"
    if kind == Kind.QUARTER:
        return f"{code // 10}-Q{code % 10}"
    if kind == Kind.YEAR:
        return str(code)
    return "all"


def parent_code(code: int) -> int:
    """The next coarser period: a month's quarter, a quarter's year, a year's all time."""
    kind = code_kind(code)
    if kind == Kind.MONTH:
        return (code // 100) * 10 + (code % 100 + 2) // 3
    if kind == Kind.QUARTER:
        return code // 10
    return ALL


def child_range(code: int) -> tuple[int, int]:
    """The codes of the next finer periods that sum into `code`, as an inclusive range."""
    kind = code_kind(code)
    if kind == Kind.QUARTER:
        year, quarter = divmod(code, 10)
        return year * 100 + 3 * quarter - 2, year * 100 + 3 * quarter
    if kind == Kind.YEAR:
        return code * 10 + 1, code * 10 + 4
    if kind == Kind.ALL:
        return CODE_RANGES[Kind.YEAR]
    raise ValueError(code)


def period_previous(period: str) -> str | None:
    """The period of the same kind just before `period` (None for all time)."""
    kind = period_kind(period)
    if kind == Kind.ALL:
        return None
    year = int(period[:4])
    if kind == Kind.YEAR:
        return str(year - 1)
    if kind == Kind.QUARTER:
        quarter = int(period[-1])
        return f"{year - 1}-Q4" if quarter == 1 else f"{year}-Q{quarter - 1}"
    month = int(period[5:7])
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def month_bounds(code: int) -> tuple[date, date]:
    """The first day of a month code and of the month after."""
    year, month = divmod(code, 100)
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)
