"""Deadlines counted in working days: weekends and the configured public holidays do not count."""

from datetime import date, timedelta

from django.conf import settings


def _holidays() -> set[date]:
    return {date.fromisoformat(day) for day in settings.RECTIFICATION_HOLIDAYS if day}


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays()


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (the start day itself does not count)."""
    holidays = _holidays()
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            remaining -= 1
    return current
