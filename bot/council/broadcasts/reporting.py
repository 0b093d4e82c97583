"""Who a broadcast reached: delivered, failed, skipped and waiting, for the console and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (func, select)
from sqlalchemy.orm import Session

from bot.models import Direction, Message, MessageState, StatusEvent, UNSENT
from bot.council.broadcasts.models import (DELIVERED, FAILED, HELD_FOR_HOURS, Broadcast, BroadcastRecipient,
                                          RecipientState)




@dataclass
class Report:
    """What became of one broadcast, from the outbox and Twilio's callbacks."""

    broadcast_id: int
    state: str
    recipients: int = 0
    waiting: int = 0
    queued: int = 0
    pending: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    failed_by_code: dict[int, int] = field(default_factory=dict)
    skipped: int = 0
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    held_for_hours: int = 0  # queued, waiting in the outbox for the hours the carer asked to be texted in
    segments: int = 0
    callbacks: int = 0
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def done_share(self) -> float:
        """How far along: recipients no longer waiting for their turn."""
        return 1.0 if not self.recipients else (self.recipients - self.waiting) / self.recipients

    def as_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items()}
        data["failed_by_code"] = {str(k): v for k, v in self.failed_by_code.items()}
        data["done_share"] = round(self.done_share, 4)
        return data


def report(session: Session, broadcast_id: int) -> Report | None:
    """Totals for one broadcast: queued, sent, delivered, failed by code, skipped by reason."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return None
    r = Report(broadcast_id=broadcast_id, state=broadcast.state, recipients=broadcast.recipients)
    for state, reason, count in session.execute(
            select(BroadcastRecipient.state, BroadcastRecipient.reason, func.count())
            .where(BroadcastRecipient.broadcast_id == broadcast_id)
            .group_by(BroadcastRecipient.state, BroadcastRecipient.reason)):
        if state == RecipientState.WAITING:
            r.waiting += count
        elif state == RecipientState.QUEUED:
            r.queued += count
        else:
            r.skipped += count
            r.skipped_by_reason[reason or "unknown"] = r.skipped_by_reason.get(reason or "unknown", 0) + count
    rows = session.execute(
        select(Message.channel, Message.state, Message.delivery_status, Message.error_code, Message.error_note,
               func.count(), func.sum(Message.num_segments))
        .where(Message.broadcast_id == broadcast_id, Message.direction == Direction.OUT)
        .group_by(Message.channel, Message.state, Message.delivery_status, Message.error_code, Message.error_note))
    for channel, state, status, code, note, count, segs in rows:
        chan = r.by_channel.setdefault(channel, {"queued": 0, "delivered": 0, "failed": 0})
        chan["queued"] += count
        if state in UNSENT:
            r.pending += count
        elif state == MessageState.SKIPPED:
            r.skipped += count
            r.skipped_by_reason[note or "unknown"] = r.skipped_by_reason.get(note or "unknown", 0) + count
        if state == MessageState.SENT:
            r.sent += count
            if channel == "sms":
                r.segments += int(segs or 0)
        if status in DELIVERED:
            r.delivered += count
            chan["delivered"] += count
        elif status in FAILED or state == MessageState.FAILED:
            r.failed += count
            chan["failed"] += count
            r.failed_by_code[code or 0] = r.failed_by_code.get(code or 0, 0) + count
    r.held_for_hours = session.scalar(
        select(func.count()).select_from(BroadcastRecipient)
        .join(Message, Message.id == BroadcastRecipient.message_id)
        .where(BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.reason == HELD_FOR_HOURS,
               Message.state.in_(UNSENT))) or 0
    r.callbacks = session.scalar(
        select(func.count()).select_from(StatusEvent)
        .where(StatusEvent.twilio_sid.in_(select(Message.twilio_sid).where(Message.broadcast_id == broadcast_id)))) or 0
    return r


def listing(session: Session, limit: int = 100) -> list[Broadcast]:
    return list(session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)))
