"""Quiet hours in UK time across the clock changes, and carers' own words for when suits them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.timing.quiet_hours import (DAY, EVERY_DAY, WEEKDAYS, WEEKEND, ContactWindow, QuietHours, is_allowed,
                             next_allowed, parse_duration, parse_schedule)

LONDON = ZoneInfo("Europe/London")
QUIET = QuietHours.parse("21:00-08:00")


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("due, expected", [
    # October 2026: clocks go back at 02:00 BST on Sunday 25th (01:00 UTC).
    (utc(2026, 10, 24, 6, 30), utc(2026, 10, 24, 7, 0)),    # 07:30 BST: waits for 08:00 BST
    (utc(2026, 10, 24, 19, 59), utc(2026, 10, 24, 19, 59)),  # 20:59 BST: still allowed
    (utc(2026, 10, 24, 20, 0), utc(2026, 10, 25, 8, 0)),    # 21:00 BST Saturday: 08:00 GMT Sunday
    (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 8, 0)),    # 01:30 BST, the hour that happens twice
    (utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 8, 0)),    # 01:30 GMT, its second time
    (utc(2026, 10, 25, 20, 30), utc(2026, 10, 25, 20, 30)),  # 20:30 GMT Sunday: allowed
    (utc(2026, 10, 25, 21, 0), utc(2026, 10, 26, 8, 0)),    # 21:00 GMT: quiet until Monday 08:00
    # March 2026: clocks go forward at 01:00 GMT on Sunday 29th.
    (utc(2026, 3, 28, 20, 59), utc(2026, 3, 28, 20, 59)),   # 20:59 GMT Saturday: allowed
    (utc(2026, 3, 28, 21, 0), utc(2026, 3, 29, 7, 0)),      # 21:00 GMT: 08:00 BST Sunday is 07:00 UTC
    (utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 7, 0)),      # 02:30 BST, just after the skipped hour
    (utc(2026, 3, 29, 19, 59), utc(2026, 3, 29, 19, 59)),   # 20:59 BST Sunday: allowed
    (utc(2026, 3, 29, 20, 0), utc(2026, 3, 30, 7, 0)),      # 21:00 BST: quiet until 08:00 BST Monday
])
def test_quiet_hours_in_uk_time_across_clock_changes(due, expected):
    assert next_allowed(due, QUIET, None, LONDON) == expected
    assert is_allowed(due, QUIET, None, LONDON) == (due == expected)


@pytest.mark.parametrize("words, hours, days", [
    ("evenings", [(17, 21)], EVERY_DAY),
    ("after 7", [(19, 24)], EVERY_DAY),
    ("After 7pm please", [(19, 24)], EVERY_DAY),
    ("weekends only", [(0, 24)], WEEKEND),
    ("not before 10", [(10, 24)], EVERY_DAY),
    ("weekday evenings", [(17, 21)], WEEKDAYS),
    ("Saturday mornings", [(8, 12)], frozenset({5})),
    ("between 6 and 8", [(18, 20)], EVERY_DAY),
    ("before 5", [(0, 17)], EVERY_DAY),
    ("mornings or evenings", [(8, 12), (17, 21)], EVERY_DAY),
    ("any time", [(0, 24)], EVERY_DAY),
])
def test_contact_window_from_the_carers_words(words, hours, days):
    window = ContactWindow.parse(words)
    assert [(a // 60, b // 60) for a, b in window.ranges] == hours
    assert window.days == days and window.understood


def test_words_we_cannot_read_leave_quiet_hours_only():
    window = ContactWindow.parse("when the kettle boils")
    assert not window.understood and window.ranges == ((0, DAY),)


def test_carer_window_inside_quiet_hours_across_the_change():
    after_7 = ContactWindow.parse("after 7")
    # Saturday 24 Oct 17:00 UTC is 18:00 BST: 19:00 BST is 18:00 UTC; a day later 19:00 GMT is 19:00 UTC.
    assert next_allowed(utc(2026, 10, 24, 17, 0), QUIET, after_7, LONDON) == utc(2026, 10, 24, 18, 0)
    assert next_allowed(utc(2026, 10, 25, 17, 0), QUIET, after_7, LONDON) == utc(2026, 10, 25, 19, 0)
    # 20:30 local is inside "after 7"; 21:00 starts quiet hours, so the next chance is 19:00 tomorrow.
    assert next_allowed(utc(2026, 10, 25, 21, 0), QUIET, after_7, LONDON) == utc(2026, 10, 26, 19, 0)


def test_weekends_only_from_a_thursday_waits_for_saturday_morning():
    window = ContactWindow.parse("weekends only")
    assert next_allowed(utc(2026, 11, 26, 10, 0), QUIET, window, LONDON) == utc(2026, 11, 28, 8, 0)


def test_a_window_that_quiet_hours_rule_out_falls_back_to_quiet_hours():
    window = ContactWindow.parse("after 10pm")
    assert next_allowed(utc(2026, 11, 26, 22, 30), QUIET, window, LONDON) == utc(2026, 11, 27, 8, 0)


def test_schedule_and_durations():
    assert parse_schedule("1d,3d,7d") == [timedelta(days=1), timedelta(days=3), timedelta(days=7)]
    assert parse_schedule("20s, 40s,60s") == [timedelta(seconds=s) for s in (20, 40, 60)]
    assert parse_duration("365d") == timedelta(days=365)
    with pytest.raises(ValueError):
        parse_schedule("3d,1d")
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_no_quiet_hours_when_unset():
    assert next_allowed(utc(2026, 11, 26, 3, 0), QuietHours.parse(""), None, LONDON) == utc(2026, 11, 26, 3, 0)
