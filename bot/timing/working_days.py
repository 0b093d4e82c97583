"""Working days: Monday to Friday and not a bank holiday, counted on the council's own calendar and clock."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.timing.clock import as_utc
from bot.timing.quiet_hours import clock_minutes

log = logging.getLogger("carertext.working_days")

ENGLAND_AND_WALES = Path(__file__).resolve().parent / "calendars" / "england-and-wales.txt"


def read_holidays(path: Path) -> frozenset[date]:
    """The dates of a bank-holiday list: one ISO date at the start of each line; # lines are notes."""
    days = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            days.add(date.fromisoformat(line.split()[0]))
        except ValueError:
            raise ValueError(f"{path.name} line {number}: not a date (YYYY-MM-DD)") from None
    return frozenset(days)


class WorkingDays:
    """Counts working days in a time zone, skipping weekends and the bank holidays it was given."""

    def __init__(self, holidays: frozenset[date], zone: ZoneInfo):
        self.holidays = holidays
        self.zone = zone
        self.known_until = max(holidays, default=date.min)
        self._warned = False

    def is_working(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add(self, start: datetime, days: int) -> datetime:
        """`start` moved on by `days` working days, at the same local time of day."""
        local = as_utc(start).astimezone(self.zone)
        day = local.date()
        while days > 0:
            day += timedelta(days=1)
            if self.is_working(day):
                days -= 1
        if day > self.known_until and not self._warned:
            self._warned = True  # once a process: the list needs its next years
            log.warning("bank holidays are known until %s only; later dates skip weekends alone", self.known_until)
        moved = datetime.combine(day, local.time(), tzinfo=self.zone)
        return moved.astimezone(as_utc(start).tzinfo)


@lru_cache(maxsize=8)
def _calendar(path: str, zone: str) -> WorkingDays:
    return WorkingDays(read_holidays(Path(path)), ZoneInfo(zone))


def for_settings(settings: Settings) -> WorkingDays:
    """The council's working days: BANK_HOLIDAYS_FILE (England and Wales by default) in its time zone."""
    return _calendar(settings.bank_holidays_file or str(ENGLAND_AND_WALES), settings.timezone)


def duty_team_open(when: datetime, settings: Settings) -> bool:
    """Whether the duty team is in: a working day, within DUTY_HOURS, on the council's clock."""
    calendar = for_settings(settings)
    local = as_utc(when).astimezone(calendar.zone)
    opens, _, closes = settings.duty_hours.partition("-")
    minute = local.hour * 60 + local.minute
    return calendar.is_working(local.date()) and clock_minutes(opens) <= minute < clock_minutes(closes)
