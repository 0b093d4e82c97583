"""Reading when a carer who paused asked to hear from us again."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.timing.come_back import come_back_at
from bot.timing.working_days import WorkingDays

LONDON = ZoneInfo("Europe/London")
# Thursday 26 November 2026, 10:00 in London (UTC in winter).
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)


def utc(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone.utc)


@pytest.mark.parametrize("words,expected", [
    ("text me tomorrow evening", utc(27, 18, 30)),
    ("tmrw morning pls", utc(27, 9, 30)),
    ("remind me tomorrow", utc(27, 10)),
    ("can you remind me tonight after 8", utc(26, 20)),
    ("later tonight please", utc(26, 19)),
    ("after the weekend", utc(30, 10)),
    ("next week would be better", utc(30, 10)),
    ("text me at the weekend", utc(28, 10)),
    ("in a couple of days", utc(28, 10)),
    ("give me a couple of days and try again", utc(28, 10)),
    ("in a few days", utc(29, 10)),
    ("message me on tuesday", datetime(2026, 12, 1, 10, tzinfo=timezone.utc)),
    ("thursday evening", datetime(2026, 12, 3, 18, 30, tzinfo=timezone.utc)),  # today is Thursday: next week's
    ("in 2 hours", utc(26, 12)),
    ("text me in a week", datetime(2026, 12, 3, 10, tzinfo=timezone.utc)),
])
def test_times_carers_give(words, expected):
    assert come_back_at(words, NOW, LONDON) == expected


def test_summer_time_is_read_in_london():
    june = datetime(2026, 6, 10, 9, 0, tzinfo=timezone.utc)  # 10:00 in London
    assert come_back_at("tomorrow evening", june, LONDON) == datetime(2026, 6, 11, 17, 30, tzinfo=timezone.utc)


def test_tonight_said_late_means_soon_not_the_past():
    late = datetime(2026, 11, 26, 20, 30, tzinfo=timezone.utc)
    assert come_back_at("later tonight", late, LONDON) == datetime(2026, 11, 26, 21, 30, tzinfo=timezone.utc)


def test_no_time_in_the_words():
    assert come_back_at("sorry got to go", NOW, LONDON) is None


# England's bank holidays around Christmas 2026 and the spring: Friday 25 and Monday 28 December, Friday 1 January.
HOLIDAYS = frozenset({date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1), date(2027, 3, 26), date(2027, 3, 29)})


@pytest.mark.parametrize("words,now,expected", [
    ("can we do the rest after the bank holiday", datetime(2026, 12, 23, 21, tzinfo=timezone.utc),
     datetime(2026, 12, 29, 10, tzinfo=timezone.utc)),
    ("after christmas please", datetime(2026, 12, 20, 12, tzinfo=timezone.utc),
     datetime(2026, 12, 29, 10, tzinfo=timezone.utc)),
    ("text me after easter", datetime(2027, 3, 1, 12, tzinfo=timezone.utc),
     datetime(2027, 3, 30, 9, tzinfo=timezone.utc)),  # British Summer Time by then
])
def test_after_a_bank_holiday_is_the_next_working_day(words, now, expected):
    assert come_back_at(words, now, LONDON, WorkingDays(HOLIDAYS, LONDON)) == expected


def test_a_bank_holiday_nobody_listed_gives_no_time():
    assert come_back_at("after the bank holiday", NOW, LONDON) is None
