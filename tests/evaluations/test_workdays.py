"""Working days on the official calendar: 2026's holidays and 调休 weekends, and the fallback past its data.

The 2026 schedule (国务院办公厅, as shipped in chinesecalendar 1.11.0): Spring Festival off 15–23 February,
Saturdays 14 and 28 February worked; National Day off 1–7 October, Sunday 20 September and Saturday
10 October worked (Mid-autumn 25–27 September sits in between). 1.11.0 has no data for 2027; when the
pinned version gains it, move the fallback tests to the first year it still lacks.
"""

import logging
from datetime import date, timedelta
from unittest import mock

import pytest
from django.test import override_settings

from evaluations import workdays
from evaluations.workdays import add_working_days, calendar_gap, is_working_day

WARNING = (
    "The official holiday calendar does not cover 2027 yet: deadlines in 2027 count weekends and "
    "RECTIFICATION_HOLIDAYS only. Update the chinesecalendar package."
)


@pytest.fixture(autouse=True)
def _no_local_holidays_and_fresh_warnings(settings, monkeypatch):
    """No overrides unless a test lists some; the once-per-process warning must not depend on test order."""
    settings.RECTIFICATION_HOLIDAYS = []
    monkeypatch.setattr(workdays, "_warned_years", set())


def days_of(year):
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


def test_2026_weekends_worked_and_weekdays_off_follow_the_official_schedule():
    worked_weekends = [d for d in days_of(2026) if d.weekday() >= 5 and is_working_day(d)]
    assert worked_weekends == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
    weekdays_off = [d for d in days_of(2026) if d.weekday() < 5 and not is_working_day(d)]
    assert weekdays_off == [
        date(2026, 1, 1),
        date(2026, 1, 2),
        *(date(2026, 2, day) for day in (16, 17, 18, 19, 20, 23)),
        date(2026, 4, 6),
        date(2026, 5, 1),
        date(2026, 5, 4),
        date(2026, 5, 5),
        date(2026, 6, 19),
        date(2026, 9, 25),
        *(date(2026, 10, day) for day in (1, 2, 5, 6, 7)),
    ]


@pytest.mark.parametrize(
    ("start", "one", "five"),
    [
        # Spring Festival: Sat 14 Feb is worked, 15–23 Feb are off, Sat 28 Feb is worked.
        (date(2026, 2, 12), date(2026, 2, 13), date(2026, 2, 26)),  # Thu: 13, 14 | 24, 25, 26
        (date(2026, 2, 13), date(2026, 2, 14), date(2026, 2, 27)),  # Fri: 14 | 24, 25, 26, 27
        (date(2026, 2, 21), date(2026, 2, 24), date(2026, 2, 28)),  # mid-holiday: 24, 25, 26, 27, Sat 28
        (date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 5)),  # Fri: Sat 28, then Mon 2 – Thu 5 Mar
        # National Day: Sun 20 Sep is worked, 25–27 Sep and 1–7 Oct are off, Sat 10 Oct is worked.
        (date(2026, 9, 18), date(2026, 9, 20), date(2026, 9, 24)),  # Fri: Sun 20, 21, 22, 23, 24
        (date(2026, 9, 24), date(2026, 9, 28), date(2026, 10, 9)),  # Thu: 28, 29, 30 | 8, 9
        (date(2026, 9, 29), date(2026, 9, 30), date(2026, 10, 12)),  # Tue: 30 | 8, 9, Sat 10, Mon 12
        (date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 13)),  # Wed: 8, 9, Sat 10, Mon 12, 13
        (date(2026, 10, 9), date(2026, 10, 10), date(2026, 10, 15)),  # Fri: Sat 10, then Mon 12 – Thu 15
    ],
)
def test_deadlines_across_the_2026_holidays(start, one, five):
    assert add_working_days(start, 1) == one
    assert add_working_days(start, 5) == five


@override_settings(RECTIFICATION_HOLIDAYS=["2026-10-10", "2026-10-12"])
def test_the_override_removes_even_an_official_working_weekend():
    assert is_working_day(date(2026, 10, 10)) is False
    assert add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 13)


def test_calendar_gap_names_the_uncovered_years_among_this_and_next():
    assert calendar_gap(date(2025, 12, 31)) == []
    assert calendar_gap(date(2026, 6, 1)) == [2027]
    assert calendar_gap(date(2027, 3, 1)) == [2027, 2028]
    with mock.patch("django.utils.timezone.localdate", return_value=date(2026, 12, 1)):
        assert calendar_gap() == [2027]


@override_settings(RECTIFICATION_HOLIDAYS=["2027-01-01", "2027-02-08", "2027-02-09"])
def test_an_uncovered_year_counts_weekends_and_the_override_and_warns_once(caplog):
    with caplog.at_level(logging.WARNING, logger="evaluations.workdays"):
        # From covered 2026 into 2027: Thu 31 Dec, then Fri 1 Jan is off by the override.
        assert add_working_days(date(2026, 12, 30), 5) == date(2027, 1, 7)  # 31 | 4, 5, 6, 7
        assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
        # Spring Festival 2027 is unknown to the package: only the listed Mon 8 and Tue 9 Feb are off.
        assert add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 10)
        assert add_working_days(date(2027, 2, 5), 5) == date(2027, 2, 16)  # 10, 11, 12 | 15, 16
        assert is_working_day(date(2027, 2, 6)) is False  # a Saturday
        assert is_working_day(date(2027, 2, 8)) is False  # listed
        assert is_working_day(date(2027, 2, 10)) is True
    warnings = [r for r in caplog.records if r.name == "evaluations.workdays"]
    assert [(r.levelno, r.getMessage()) for r in warnings] == [
        (
            logging.WARNING,
            "The chinesecalendar package does not cover 2027: working days in 2027 are Monday to Friday "
            "minus RECTIFICATION_HOLIDAYS. Update the package.",
        )
    ]


def test_an_uncovered_year_without_overrides_is_monday_to_friday():
    assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)
    assert add_working_days(date(2027, 1, 1), 5) == date(2027, 1, 8)


LIST_PAGES = [("secretary", "/workspace/rectifications/"), ("district_reviewer", "/dashboard/rectifications/")]


@pytest.mark.parametrize(("who", "url"), LIST_PAGES)
def test_the_list_pages_warn_when_next_year_is_not_covered(client, tree, request, who, url):
    client.force_login(request.getfixturevalue(who))
    with mock.patch("django.utils.timezone.localdate", return_value=date(2026, 12, 1)):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["calendar_gap"] == [2027]
    body = response.content.decode()
    assert f'<div class="alert alert-warning" role="alert">{WARNING}</div>' in body


@pytest.mark.parametrize(("who", "url"), LIST_PAGES)
def test_the_list_pages_do_not_warn_when_both_years_are_covered(client, tree, request, who, url):
    client.force_login(request.getfixturevalue(who))
    with mock.patch("django.utils.timezone.localdate", return_value=date(2025, 12, 1)):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["calendar_gap"] == []
    body = response.content.decode()
    assert "alert-warning" not in body
    assert "chinesecalendar" not in body
