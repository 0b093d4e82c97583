"""The gate at the moment of sending: never faster than the sender's rate, shared by every process."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (update)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import rows_changed
from bot.timing.clock import Clock, as_utc
from bot.models import Carer, Message, MessageKind
from bot.timing.quiet_hours import QuietHours, contact_window, is_allowed, next_allowed
from bot.council.broadcasts.models import BroadcastSendGate




def sender_key(settings: Settings, channel: str) -> str:
    """The sender a message leaves from: the rate is per sender."""
    if settings.twilio_messaging_service_sid:
        return settings.twilio_messaging_service_sid
    return settings.twilio_whatsapp_from if channel == "whatsapp" else settings.twilio_sms_from


# -- the gate at the moment of sending --------------------------------------------------------------


LOOK_AHEAD = timedelta(milliseconds=3)


class SendGate:
    """Holds a broadcast message back until its sender is free, so however late the outbox runs, never faster than R."""

    def __init__(self, settings: Settings, clock: Clock):
        self.settings = settings
        self.clock = clock
        # When each sender was last found busy until, in this process: until then the outbox claims none of
        # its broadcast messages only to put them back.
        self.busy_until: dict[str, datetime] = {}

    def _ready_at(self, until: datetime) -> datetime:
        # Look again a little before the sender is free: reading the due list and claiming take about 3 ms,
        # which would otherwise be added to every gap (40.6/s at a rate of 50).
        return until - min(LOOK_AHEAD, timedelta(seconds=0.25 / max(self.settings.send_rate_per_second, 1e-9)))

    def busy(self, kind: str, channel: str) -> bool:
        """Whether the sender of a broadcast message on this channel was last found busy until a moment to come."""
        until = self.busy_until.get(sender_key(self.settings, channel)) if kind == MessageKind.BROADCAST else None
        return until is not None and self.clock.now() < self._ready_at(until)

    def free_at(self) -> datetime | None:
        """The moment to look again for a sender found busy, while one is."""
        now = self.clock.now()
        return min((m for m in map(self._ready_at, self.busy_until.values()) if m > now), default=None)

    def __call__(self, session: Session, message: Message) -> datetime | None:
        if message.kind != MessageKind.BROADCAST:
            return None  # replies, reminders and alerts are never held by a broadcast
        settings, now = self.settings, self.clock.now()
        quiet, zone = QuietHours.parse(settings.quiet_hours), ZoneInfo(settings.timezone)
        # Queued just before quiet hours or the end of the carer's own hours, sent late: when they open again.
        carer = session.get(Carer, message.carer_id) if message.carer_id else None
        window = contact_window(carer.contact_window) if carer is not None else None
        if not is_allowed(now, quiet, window, zone):
            return next_allowed(now, quiet, window, zone)
        gap = timedelta(seconds=1.0 / max(settings.send_rate_per_second, 1e-9))
        key = sender_key(settings, message.channel)
        took = rows_changed(session.execute(
            update(BroadcastSendGate).where(BroadcastSendGate.sender == key, BroadcastSendGate.next_free_at <= now)
            .values(next_free_at=now + gap).execution_options(synchronize_session=False)))
        if took != 1:
            gate = session.get(BroadcastSendGate, key)
            if gate is not None:
                self.busy_until[key] = as_utc(gate.next_free_at)
                return self.busy_until[key]
            try:
                with session.begin_nested():
                    session.add(BroadcastSendGate(sender=key, next_free_at=now + gap))
            except IntegrityError:  # another sender made it first: ask again next time round
                return now + gap
        self.busy_until[key] = now + gap  # this send's slot
        return None


# -- the report ------------------------------------------------------------------------------------


