"""Deadlines counted in working days, on the official Chinese holiday calendar.

The calendar (the ``chinesecalendar`` package) knows the public holidays and the 调休 weekends
worked in their place, but only for the years its release covers. In a year it does not cover
we count Monday to Friday and say so, once, in the log; the rectification lists warn through
``calendar_gap``. Dates in ``settings.RECTIFICATION_HOLIDAYS`` are never working days, in any
year: a local day off, or a correction while the package lags behind an announcement.
"""

import functools
import logging
from datetime import date, timedelta

import chinese_calendar
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

# Years already reported as uncovered in this process; a race may log one twice, which is harmless.
_warned_years: set[int] = set()


def _holidays() -> set[date]:
    return {date.fromisoformat(day) for day in settings.RECTIFICATION_HOLIDAYS if day}


@functools.cache
def calendar_covers(year: int) -> bool:
    """Whether the installed calendar has the official schedule of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def calendar_gap(today: date | None = None) -> list[int]:
    """This year and next, where the calendar lacks them (a deadline set in December runs into January)."""
    year = (today or timezone.localdate()).year
    return [y for y in (year, year + 1) if not calendar_covers(y)]


def _officially_working(day: date) -> bool:
    if calendar_covers(day.year):
        return chinese_calendar.is_workday(day)
    if day.year not in _warned_years:
        _warned_years.add(day.year)
        logger.warning(
            "The chinesecalendar package does not cover %s: working days in %s are Monday to Friday "
            "minus RECTIFICATION_HOLIDAYS. Update the package.",
            day.year,
            day.year,
        )
    return day.weekday() < 5


def is_working_day(day: date) -> bool:
    return day not in _holidays() and _officially_working(day)


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (the start day itself does not count)."""
    holidays = _holidays()
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current not in holidays and _officially_working(current):
            remaining -= 1
    return current
