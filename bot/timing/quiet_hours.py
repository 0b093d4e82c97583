"""When a reminder may reach a carer: outside quiet hours (UK time) and inside the carer's own window."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DAY = 24 * 60  # minutes
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.I)
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """Read "20s", "90m", "3h", "1d", "2w" as a timedelta."""
    match = DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 20s, 90m, 3h, 1d, 2w)")
    return timedelta(seconds=float(match.group(1)) * UNITS[match.group(2).lower()])


def parse_schedule(text: str) -> list[timedelta]:
    """Read REMINDER_SCHEDULE ("1d,3d,7d"): delays after the carer's last message, in order."""
    delays = [parse_duration(part) for part in text.split(",") if part.strip()]
    if delays != sorted(delays):
        raise ValueError("REMINDER_SCHEDULE must go up: each reminder after the one before")
    return delays


def clock_minutes(text: str) -> int:
    """Minutes into the day of a clock time ("21:00", "8")."""
    hours, _, minutes = text.strip().partition(":")
    return int(hours) * 60 + int(minutes or 0)


@dataclass(frozen=True)
class QuietHours:
    """Minutes of the local day when nothing but a reply may be sent; may wrap midnight (21:00-08:00)."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> "QuietHours":
        """Read QUIET_HOURS ("21:00-08:00"); an empty value means no quiet hours."""
        if not text.strip():
            return cls(0, 0)
        start, _, end = text.partition("-")
        return cls(clock_minutes(start), clock_minutes(end))

    def open_ranges(self) -> list[tuple[int, int]]:
        """The minutes of a day outside quiet hours, as [start, end) ranges."""
        if self.start == self.end:
            return [(0, DAY)]
        if self.start > self.end:  # wraps midnight: open in the middle of the day
            return [(self.end, self.start)]
        return [r for r in ((0, self.start), (self.end, DAY)) if r[0] < r[1]]


# What carers say, mapped to parts of the day (minutes) and days of the week (Monday is 0).
PERIODS = {
    "morning": (8 * 60, 12 * 60), "lunch": (12 * 60, 14 * 60), "lunchtime": (12 * 60, 14 * 60),
    "afternoon": (12 * 60, 17 * 60), "evening": (17 * 60, 21 * 60), "teatime": (16 * 60, 18 * 60),
    "night": (19 * 60, DAY), "daytime": (9 * 60, 17 * 60),
}
DAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}
WEEKDAYS, WEEKEND, EVERY_DAY = frozenset(range(5)), frozenset({5, 6}), frozenset(range(7))
ANY_TIME = {"anytime", "any time", "whenever", "any day", "no preference", "don't mind", "dont mind"}
HOUR = r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?"
BETWEEN = re.compile(rf"\b(?:between|from)\s+{HOUR}\s*(?:and|to|-|till|until)\s*{HOUR}")
AFTER = re.compile(rf"\b(?:(?<!not )after|from|not before|no earlier than)\s+{HOUR}")
BEFORE = re.compile(rf"\b(?:(?<!not )before|until|till|by|not after|no later than)\s+{HOUR}")


def _hour(match: re.Match[str], first: int, pm_up_to: int) -> int:
    """Minutes of the day for the HOUR from group `first` on ("7", "7pm", "10:30"); a bare one up to pm_up_to is p.m."""
    h, m, meridian = match.group(first), match.group(first + 1), match.group(first + 2)
    hour, minute = int(h) % 24, int(m or 0)
    mer = (meridian or "").replace(".", "")
    if mer == "pm" and hour < 12:
        hour += 12
    elif mer == "am" and hour == 12:
        hour = 0
    elif not mer and 1 <= hour <= pm_up_to:
        hour += 12  # nobody means 7 a.m. by "after 7" when quiet hours end at 8
    return min(hour * 60 + minute, DAY)


@dataclass(frozen=True)
class ContactWindow:
    """The hours and days a carer said suit them; `understood` is False when we could not read it."""

    ranges: tuple[tuple[int, int], ...] = ((0, DAY),)
    days: frozenset[int] = EVERY_DAY
    understood: bool = True

    @classmethod
    def parse(cls, words: str | None) -> "ContactWindow":
        """Read the carer's words ("evenings", "after 7", "weekends only", "not before 10")."""
        text = " ".join((words or "").lower().replace("\u2019", "'").split())
        if not text or any(phrase in text for phrase in ANY_TIME):
            return cls()
        days: set[int] = set()
        tokens = re.findall(r"[a-z]+", text)
        for token in tokens:
            stem = token[:-1] if token.endswith("s") and token[:-1] in {*DAYS, "weekend", "weekday"} else token
            if stem in ("weekend",):
                days |= WEEKEND
            elif stem in ("weekday",) or token == "week":
                days |= WEEKDAYS
            elif stem in DAYS:
                days.add(DAYS[stem])
        if "not on weekends" in text or "not weekends" in text or "not at weekends" in text:
            days = set(WEEKDAYS)
        ranges = [PERIODS[t[:-1] if t.endswith("s") and t[:-1] in PERIODS else t]
                  for t in tokens if t in PERIODS or (t.endswith("s") and t[:-1] in PERIODS)]
        low, high = 0, DAY
        found_hours = False
        if m := BETWEEN.search(text):
            low, high = _hour(m, 1, pm_up_to=7), _hour(m, 4, pm_up_to=9)
            if high <= low and not m.group(6):
                high = min(high + 12 * 60, DAY)
            found_hours = True
        else:
            if m := AFTER.search(text):
                pm_up_to = 5 if m.group(0).startswith(("not", "no ")) else 7
                low, found_hours = _hour(m, 1, pm_up_to=pm_up_to), True
            if m := BEFORE.search(text):
                high, found_hours = _hour(m, 1, pm_up_to=8), True
        if not ranges:
            ranges = [(0, DAY)]
        clipped = tuple((max(a, low), min(b, high)) for a, b in ranges if max(a, low) < min(b, high))
        understood = bool(days) or found_hours or ranges != [(0, DAY)]
        if not understood:
            return cls(understood=False)
        if not clipped:  # "mornings after 7pm": the hours they named win over the part of the day
            clipped = ((low, high),) if low < high else ((0, DAY),)
        return cls(ranges=clipped, days=frozenset(days) or EVERY_DAY, understood=True)


def _intersect(a: list[tuple[int, int]], b: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    out = [(max(x0, y0), min(x1, y1)) for x0, x1 in a for y0, y1 in b if max(x0, y0) < min(x1, y1)]
    return sorted(out)


def _local(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The UTC moment of a local clock time; 24:00 is the next midnight."""
    if minute >= DAY:
        day, minute = day + timedelta(days=1), 0
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    # A clock time skipped by the March change does not exist: take the first minute after the gap.
    back = local.astimezone(timezone.utc).astimezone(zone)
    if back.replace(tzinfo=None) != local.replace(tzinfo=None):
        local = back
    return local.astimezone(timezone.utc)


def next_allowed(when: datetime, quiet: QuietHours, window: ContactWindow | None, zone: ZoneInfo,
                 horizon_days: int = 15) -> datetime:
    """The first moment at or after `when` outside quiet hours and inside the carer's window."""
    when = when.astimezone(timezone.utc)
    for use_window in (True, False):
        ranges = _intersect(quiet.open_ranges(), window.ranges if (window and use_window) else ((0, DAY),))
        days = window.days if (window and use_window) else EVERY_DAY
        start_day = when.astimezone(zone).date() - timedelta(days=1)
        for offset in range(horizon_days):
            day = start_day + timedelta(days=offset)
            if day.weekday() not in days:
                continue
            for a, b in ranges:
                begin, end = _local(day, a, zone), _local(day, b, zone)
                if end <= when:
                    continue
                return max(begin, when)
        # The carer's words and quiet hours leave no time at all (say "after 10pm"): quiet hours win.
    return when


@lru_cache(maxsize=1024)
def contact_window(words: str | None) -> ContactWindow | None:
    """The hours a carer gave, read once per phrasing (a few cover most carers); None when they gave none of
    their own: no words, words we did not understand, or any time."""
    window = ContactWindow.parse(words)
    return window if words and window.understood and window != ContactWindow() else None


def is_allowed(when: datetime, quiet: QuietHours, window: ContactWindow | None, zone: ZoneInfo) -> bool:
    """Whether a reminder may go at this moment."""
    return next_allowed(when, quiet, window, zone) <= when
