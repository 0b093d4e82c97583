"""The life of a broadcast: created, scheduled, put in the outbox a slice at a time, stopped or done."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import (func, insert, literal, select,
                        update)
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import rows_changed
from bot.messaging import outbox
from bot.parts import Core
from bot.timing.clock import as_utc
from bot.models import Carer, Direction, Message, MessageKind, MessageState
from bot.timing.quiet_hours import QuietHours, contact_window, is_allowed, next_allowed
from bot.council.broadcasts.audience import audience_ids, clean_audience
from bot.council.broadcasts.models import (HELD_FOR_HOURS, MAX_BODY, Broadcast, BroadcastError, BroadcastPacer,
                                          BroadcastRecipient, BroadcastState, RecipientState)
from bot.council.broadcasts.pacing import sender_key



log = logging.getLogger("carertext.broadcasts")


# -- the life of a broadcast -----------------------------------------------------------------------


def create(session: Session, now: datetime, *, message: str, audience: Mapping[str, object],
           created_by: int | None = None, send_until: datetime | None = None) -> Broadcast:
    """Write a draft; nothing is sent until it is scheduled."""
    message = (message or "").strip()
    if not message:
        raise BroadcastError("write the message first")
    if len(message) > MAX_BODY:
        raise BroadcastError(f"a message can be at most {MAX_BODY} characters")
    broadcast = Broadcast(message=message, audience=clean_audience(audience), state=BroadcastState.DRAFT,
                          created_by=created_by, created_at=now, send_until=send_until, recipients=0, queued=0,
                          skipped=0)
    session.add(broadcast)
    session.flush()
    return broadcast


def _transition(session: Session, broadcast_id: int, from_states: tuple[str, ...], **values: object) -> bool:
    return rows_changed(session.execute(
        update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.state.in_(from_states))
        .values(**values).execution_options(synchronize_session=False)
    )) == 1


def schedule(session: Session, now: datetime, broadcast_id: int, at: datetime | None = None) -> None:
    """Send now (at=None) or at a later moment; the scheduler starts it, never the request."""
    when = max(as_utc(at), now) if at is not None else now
    if not _transition(session, broadcast_id, (BroadcastState.DRAFT, BroadcastState.SCHEDULED),
                       state=BroadcastState.SCHEDULED, scheduled_for=when):
        raise BroadcastError("only a draft or a scheduled broadcast can be scheduled")


def cancel(session: Session, now: datetime, broadcast_id: int) -> None:
    """Cancel a draft or scheduled broadcast; once it has started, stop it instead."""
    if not _transition(session, broadcast_id, (BroadcastState.DRAFT, BroadcastState.SCHEDULED),
                       state=BroadcastState.CANCELLED, finished_at=now):
        raise BroadcastError("it has already started: stop it instead")


def stop(session: Session, now: datetime, broadcast_id: int) -> int:
    """Stop a running broadcast; its messages still waiting in the outbox are skipped. Returns how many."""
    if not _transition(session, broadcast_id, (BroadcastState.RUNNING,), state=BroadcastState.STOPPED, finished_at=now):
        raise BroadcastError("only a running broadcast can be stopped")
    return rows_changed(session.execute(
        update(Message).where(Message.broadcast_id == broadcast_id, Message.direction == Direction.OUT,
                              Message.state == MessageState.PENDING)
        .values(state=MessageState.SKIPPED, error_note="broadcast_stopped", processed_at=now)
        .execution_options(synchronize_session=False)
    ))


# -- the tick: start what is due, hand the next slice to the outbox ----------------------------------


@dataclass
class TickResult:
    started: int = 0
    queued: int = 0
    skipped: int = 0
    finished: int = 0



def _senders(settings: Settings) -> set[str]:
    """Every sender a broadcast may leave from (one, with a Messaging Service)."""
    return {sender_key(settings, "sms"), sender_key(settings, "whatsapp")}


def tick(services: Core) -> TickResult:
    """Start due broadcasts and queue each running one's next slice; cheap when nothing runs."""
    result = TickResult()
    now = services.clock.now()
    with services.db.session() as session:
        due = session.scalars(select(Broadcast.id).where(Broadcast.state == BroadcastState.SCHEDULED,
                                                         Broadcast.scheduled_for <= now)).all()
    for broadcast_id in due:
        result.started += _start(services, broadcast_id)
    with services.db.session() as session:
        running = session.scalars(select(Broadcast.id).where(Broadcast.state == BroadcastState.RUNNING)
                                  .order_by(Broadcast.id)).all()
    for broadcast_id in running:
        _slice(services, broadcast_id, result)
    if result.started or result.queued or result.skipped or result.finished:
        log.info("broadcast tick started=%s queued=%s skipped=%s finished=%s", result.started, result.queued,
                 result.skipped, result.finished)
    return result


def _start(services: Core, broadcast_id: int) -> int:
    """Fix the audience (one INSERT ... SELECT, however many carers) and mark it running."""
    now = services.clock.now()
    with services.db.session() as session:
        if not _transition(session, broadcast_id, (BroadcastState.SCHEDULED,), state=BroadcastState.RUNNING,
                           started_at=now):
            return 0
        broadcast = session.get_one(Broadcast, broadcast_id)  # its state was just moved on: the row is there
        ids = audience_ids(services.settings, now, broadcast.audience or {}).subquery()
        session.execute(insert(BroadcastRecipient).from_select(
            ["broadcast_id", "carer_id", "state"],
            select(literal(broadcast_id), ids.c.id, literal(RecipientState.WAITING.value))))
        broadcast.recipients = session.scalar(
            select(func.count()).select_from(BroadcastRecipient)
            .where(BroadcastRecipient.broadcast_id == broadcast_id)) or 0
        log.info("broadcast started id=%s recipients=%s", broadcast_id, broadcast.recipients)
    return 1


def _template(settings: Settings, message: str) -> tuple[str | None, dict[str, str] | None]:
    sid = settings.whatsapp_broadcast_content_sid
    if not sid:
        return None, None
    raw = json.loads(settings.whatsapp_broadcast_content_variables or "{}")
    return sid, {str(k): str(v).replace("{message}", message) for k, v in raw.items()}


def _skip_reason(carer: Carer | None) -> str | None:
    if carer is None or carer.phone is None or carer.erased_at is not None:
        return "erased"
    if carer.opted_out:
        return "opted_out"
    return None


def _slice(services: Core, broadcast_id: int, result: TickResult) -> None:
    """Queue the recipients whose turn falls before the next tick, each at its own moment 1/R apart."""
    settings, now = services.settings, services.clock.now()
    quiet, zone = QuietHours.parse(settings.quiet_hours), ZoneInfo(settings.timezone)
    gap = timedelta(seconds=1.0 / max(settings.send_rate_per_second, 1e-9))
    horizon = now + max(timedelta(seconds=settings.broadcast_tick_seconds), gap)
    with services.db.session() as session:
        # First write in the transaction: holds the row, so a stop waits for this slice and then skips it.
        if not _transition(session, broadcast_id, (BroadcastState.RUNNING,), state=BroadcastState.RUNNING):
            return
        broadcast = session.get_one(Broadcast, broadcast_id)  # its state was just moved on: the row is there
        send_until = as_utc(broadcast.send_until)
        if not is_allowed(now, quiet, None, zone):
            opens = next_allowed(now, quiet, None, zone)
            if send_until is not None and opens > send_until:
                result.skipped += _skip_rest(session, broadcast, "quiet_hours")
                _finish(session, broadcast, now, result)
            return  # quiet hours: the rest waits for the morning
        if send_until is not None and now > send_until:
            result.skipped += _skip_rest(session, broadcast, "too_late")
            _finish(session, broadcast, now, result)
            return
        pacers = {p.sender: p for p in session.scalars(select(BroadcastPacer))}
        first_slot = {key: max(as_utc(p.next_slot_at), now) for key, p in pacers.items()}
        # Read only as many as this tick can queue (each sender's free slots before the horizon, and a
        # margin for those skipped), not a whole batch of which most would wait for the next tick.
        room = sum(math.ceil(max(timedelta(0), horizon - first_slot.get(key, now)) / gap) for key in _senders(settings))
        waiting = session.scalars(
            select(BroadcastRecipient)
            .where(BroadcastRecipient.broadcast_id == broadcast_id,
                   BroadcastRecipient.state == RecipientState.WAITING)
            .order_by(BroadcastRecipient.id).limit(min(settings.broadcast_batch, room + room // 10 + 5))
        ).all()
        carers = {c.id: c for c in session.scalars(select(Carer).where(Carer.id.in_([r.carer_id for r in waiting])))}
        template_sid, template_vars = _template(settings, broadcast.message)
        # Slots, counts and states are kept here and written once after the loop: a row changed inside it
        # would be written again by every enqueue's flush, four statements a recipient instead of one.
        next_slot = dict(first_slot)
        queued: list[tuple[BroadcastRecipient, Message, bool]] = []
        skipped: list[tuple[BroadcastRecipient, str]] = []
        for recipient in waiting:
            carer = carers.get(recipient.carer_id)
            reason = _skip_reason(carer)
            if reason:
                skipped.append((recipient, reason))
                continue
            assert carer is not None  # a missing carer is skipped as erased
            key = sender_key(settings, carer.channel)
            slot = next_slot.get(key, now)
            if slot >= horizon:
                continue  # this sender is busy until the next tick; the other channel may not be
            if not is_allowed(slot, quiet, None, zone):
                break  # quiet hours begin before this slot
            window, due = contact_window(carer.contact_window), slot
            if window is not None:
                due = next_allowed(slot, quiet, window, zone)
                if send_until is not None and due > send_until:
                    skipped.append((recipient, "contact_window"))  # their hours open after the notice is stale
                    continue
            content_sid = content_vars = None
            if carer.channel == "whatsapp":
                last = as_utc(carer.last_inbound_at)
                if (last is None or now - last > outbox.WHATSAPP_WINDOW) and template_sid:
                    content_sid, content_vars = template_sid, template_vars
            message = outbox.enqueue(session, now, carer=carer, body=broadcast.message, kind=MessageKind.BROADCAST,
                                     channel=carer.channel, content_sid=content_sid, content_variables=content_vars,
                                     broadcast_id=broadcast_id, not_before=due, flush=False)
            if due == slot:  # one waiting for their own hours leaves this slot to the next carer; the send
                next_slot[key] = slot + gap  # gate paces those whose hours open together
            queued.append((recipient, message, due != slot))
        session.flush()  # the slice's messages in one INSERT
        for recipient, reason in skipped:
            recipient.state, recipient.reason = RecipientState.SKIPPED, reason
        for recipient, message, held in queued:
            recipient.state, recipient.message_id = RecipientState.QUEUED, message.id
            if held:
                recipient.reason = HELD_FOR_HOURS  # the report tells these from the rest until they go
        for key, slot in next_slot.items():
            if key not in pacers:
                session.add(BroadcastPacer(sender=key, next_slot_at=slot))
            elif slot != first_slot[key]:
                pacers[key].next_slot_at = slot
        broadcast.queued += len(queued)
        broadcast.skipped += len(skipped)
        result.queued += len(queued)
        result.skipped += len(skipped)
        left = session.scalar(select(BroadcastRecipient.id).where(
            BroadcastRecipient.broadcast_id == broadcast_id,
            BroadcastRecipient.state == RecipientState.WAITING).limit(1))
        if left is None:
            _finish(session, broadcast, now, result)


def _skip_rest(session: Session, broadcast: Broadcast, reason: str) -> int:
    count = rows_changed(session.execute(
        update(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == broadcast.id,
                                         BroadcastRecipient.state == RecipientState.WAITING)
        .values(state=RecipientState.SKIPPED, reason=reason).execution_options(synchronize_session=False)))
    broadcast.skipped += count
    return count


def _finish(session: Session, broadcast: Broadcast, now: datetime, result: TickResult) -> None:
    broadcast.state, broadcast.finished_at = BroadcastState.DONE, now
    result.finished += 1
    log.info("broadcast handed over id=%s queued=%s skipped=%s", broadcast.id, broadcast.queued, broadcast.skipped)


