"""When a carer who paused asked to hear from us again, read from their words ("text me tomorrow evening")."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.timing.working_days import WorkingDays

# A part of the day, as the local time a reminder for it goes (quiet hours and the carer's window still apply).
PARTS = {"morning": time(9, 30), "lunchtime": time(12, 30), "afternoon": time(14, 0), "teatime": time(17, 0),
         "evening": time(18, 30), "tonight": time(19, 0), "tonite": time(19, 0), "night": time(19, 30)}
# A day without a part: mid-morning, when most carers have a moment and no quiet hours bite.
DAY_TIME = time(10, 0)
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
SHORT_DAYS = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5,
              "sun": 6}
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "a couple of": 2, "couple of": 2, "a couple": 2, "couple": 2, "a few": 3, "few": 3}
_COUNT = r"(\d+|a couple of|couple of|a couple|couple|a few|few|an|a|one|two|three|four|five|six|seven)"


def _words(text: str) -> str:
    text = (text or "").lower().replace("\u2019", "'")
    text = re.sub(r"\b(tmrw|tmr|tomoz|2moro|2morrow|tomorow|tommorow|tommorrow)\b", "tomorrow", text)
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text).split())


def _clock(words: str) -> time | None:
    """An hour they named ("after 8", "at 7pm"), read as the evening when small and without am."""
    m = re.search(r"\b(?:after|at|about|around|from|by)\s+(\d{1,2})(?:[:. ](\d{2}))?\s*(am|pm)?\b", words)
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    if m.group(3) == "pm" and hour < 12:
        hour += 12
    elif m.group(3) is None and (1 <= hour <= 7 or (hour < 12 and re.search(r"tonight|tonite|evening|night", words))):
        hour += 12  # "after 7", "tonight after 8": the evening, not the dawn
    return time(hour, minute)


def _part(words: str) -> time | None:
    for word, at in PARTS.items():
        if re.search(rf"\b{word}\b", words):
            return at
    return None


def come_back_at(text: str, now: datetime, zone: ZoneInfo, calendar: WorkingDays | None = None) -> datetime | None:
    """The moment the carer asked to be texted again, in UTC; None when their words give no time."""
    words = _words(text)
    local = now.astimezone(zone)
    today = local.date()
    at = _clock(words) or _part(words)

    m = re.search(rf"\b(?:in|give me|wait|after) {_COUNT} (hours?|hrs?)\b", words)
    if m:
        return now + timedelta(hours=_count(m.group(1)))
    if re.search(r"\bin (a bit|a while|an hour or so|a little while)\b", words):
        return now + timedelta(hours=2)

    day: date | None = None
    if re.search(r"\bin a day or two\b", words):
        day = today + timedelta(days=2)
    elif m := re.search(rf"\b(?:in|give me|wait|leave it|leave me|after) {_COUNT} (days?|weeks?)\b", words):
        n = _count(m.group(1))
        day = today + timedelta(days=n * (7 if m.group(2).startswith("week") else 1))
    elif re.search(r"\bafter (the )?(bank holiday|bank hol|bh|holiday|easter|christmas|new year)\b", words):
        day = _after_holiday(today, calendar, words) if calendar else None
    elif "tomorrow" in words:
        day = today + timedelta(days=1)
    elif re.search(r"\b(after the|next) (weekend|week)\b", words):
        day = today + timedelta(days=7 - local.weekday())  # next Monday
    elif re.search(r"\b(the|this|at the|over the) weekend\b", words):
        day = today + timedelta(days=(5 - local.weekday()) % 7 or 7)  # the coming Saturday
    elif (named := _weekday(words)) is not None:
        day = today + timedelta(days=(named - local.weekday()) % 7 or 7)
    elif re.search(r"\b(tonight|tonite|this evening|later today|this afternoon|later on|later)\b", words):
        day = today
        at = at or (time(19, 0) if re.search(r"tonight|tonite|evening", words) else None)
        if at is None:
            return now + timedelta(hours=3)
    if day is None:
        return None
    moment = datetime.combine(day, at or DAY_TIME, tzinfo=zone)
    if moment <= now:
        moment = now + timedelta(hours=1)  # "tonight" said after the evening began: soon, quiet hours permitting
    return moment.astimezone(ZoneInfo("UTC"))


def _after_holiday(today: date, calendar: WorkingDays, words: str) -> date | None:
    """The first working day after the coming bank holidays (a run such as Christmas counts as one)."""
    coming = sorted(d for d in calendar.holidays if d >= today)
    if "christmas" in words or "new year" in words:
        coming = [d for d in coming if d.month in (12, 1)]
    elif "easter" in words:
        coming = [d for d in coming if d.month in (3, 4)]
    if not coming:
        return None
    day = coming[0]
    while not calendar.is_working(day):
        day += timedelta(days=1)
    return day


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS.get(word, 1)


def _weekday(words: str) -> int | None:
    for i, name in enumerate(DAYS):
        if re.search(rf"\b{name}\b", words):
            return i
    for short, i in SHORT_DAYS.items():
        if re.search(rf"\b(on|next|this) {short}\b", words):
            return i
    return None
