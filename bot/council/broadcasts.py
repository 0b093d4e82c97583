"""Broadcasts: one notice to a chosen group of carers, paced through the outbox, with a report of who was reached."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import (ForeignKey, Index, Integer, String, Text, case, exists, func, insert, literal, or_, select,
                        update)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.messaging import outbox
from bot.catalogue import is_gsm7, segments
from bot.timing.clock import as_utc
from bot.models import Base, Carer, Conversation, Direction, Message, MessageKind, MessageState, StatusEvent, UNSENT
from bot.timing.quiet_hours import QuietHours, contact_window, is_allowed, next_allowed, parse_duration

log = logging.getLogger("carertext.broadcasts")


class BroadcastState(StrEnum):
    """How far a broadcast has got; stopped and cancelled are a person's decision, done the scheduler's."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    STOPPED = "stopped"
    CANCELLED = "cancelled"
    DONE = "done"


class RecipientState(StrEnum):
    """One carer of a running broadcast: waiting for their turn, queued in the outbox, or skipped (with why)."""

    WAITING = "waiting"
    QUEUED = "queued"
    SKIPPED = "skipped"


ASSESSMENT_STATUSES = ("not_started", "in_progress", "completed", "review_due")
CHANNELS = ("sms", "whatsapp")
AUDIENCE_KEYS = ("status", "language", "channel", "postcode", "tag")
DELIVERED = ("delivered", "read")
FAILED = ("failed", "undelivered")
MAX_BODY = 1600  # Twilio refuses longer bodies (21617)
HELD_FOR_HOURS = "carer_hours"  # a queued recipient's note: their message waits for the hours they gave


class Broadcast(Base):
    """One notice to a group of carers: what it says, who it is for, and how far it has got."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(Text)
    # {"status": "...", "language": "...", "channel": "...", "postcode": "...", "tag": "..."}; empty means any.
    audience: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16), default=BroadcastState.DRAFT)
    scheduled_for: Mapped[Optional[datetime]]
    # Quiet hours that would push the rest past this moment skip them (reason quiet_hours): a notice can go stale.
    send_until: Mapped[Optional[datetime]]
    # A console worker's id; None when made from the command line.
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("staff_workers.id"))
    created_at: Mapped[datetime]
    started_at: Mapped[Optional[datetime]]
    finished_at: Mapped[Optional[datetime]]
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)


class BroadcastRecipient(Base):
    """One carer of a running broadcast: the audience is fixed when it starts, so progress has a total."""

    __tablename__ = "broadcast_recipients"
    __table_args__ = (Index("ix_broadcast_recipients_next", "broadcast_id", "state", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"))
    carer_id: Mapped[int] = mapped_column(ForeignKey("carers.id"), index=True)
    # waiting, queued (in the outbox), skipped
    state: Mapped[str] = mapped_column(String(16), default=RecipientState.WAITING)
    reason: Mapped[Optional[str]] = mapped_column(String(32))
    message_id: Mapped[Optional[int]] = mapped_column(ForeignKey("messages.id"))


class BroadcastPacer(Base):
    """The next free moment of one sender, shared by every broadcast so two at once never exceed the rate."""

    __tablename__ = "broadcast_pacers"

    sender: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_slot_at: Mapped[datetime]


class BroadcastSendGate(Base):
    """When a sender may next hand a broadcast message to Twilio: the outbox checks it at the moment of sending."""

    __tablename__ = "broadcast_send_gates"

    sender: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_free_at: Mapped[datetime]


class CarerTag(Base):
    """A label a council gives a carer ("young_carer", "carers_week_2026") to reach them by."""

    __tablename__ = "carer_tags"

    carer_id: Mapped[int] = mapped_column(ForeignKey("carers.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class CarerPostcode(Base):
    """The carer's postcode as the council holds it (upper case, no spaces), for postcode-area audiences."""

    __tablename__ = "carer_postcodes"

    carer_id: Mapped[int] = mapped_column(ForeignKey("carers.id"), primary_key=True)
    postcode: Mapped[str] = mapped_column(String(10), index=True)


class BroadcastError(ValueError):
    """A broadcast action that cannot be done now; the message says why, for the console."""


def normal_postcode(text: str) -> str:
    return "".join((text or "").split()).upper()


def set_postcode(session: Session, carer_id: int, postcode: str) -> None:
    """Record a carer's postcode (from the council's records)."""
    row = session.get(CarerPostcode, carer_id)
    if row is None:
        session.add(CarerPostcode(carer_id=carer_id, postcode=normal_postcode(postcode)))
    else:
        row.postcode = normal_postcode(postcode)


def add_tag(session: Session, carer_id: int, tag: str) -> None:
    """Label a carer; labelling twice is a no-op."""
    tag = tag.strip().lower()
    if session.get(CarerTag, (carer_id, tag)) is None:
        session.add(CarerTag(carer_id=carer_id, tag=tag))


# -- the audience ----------------------------------------------------------------------------------


def clean_audience(raw: dict) -> dict:
    """Keep the known filters with a value; refuse values the audience cannot mean."""
    out = {}
    for key in AUDIENCE_KEYS:
        value = str(raw.get(key) or "").strip()
        if not value or value == "any":
            continue
        if key == "status" and value not in ASSESSMENT_STATUSES:
            raise BroadcastError(f"assessment status must be one of {', '.join(ASSESSMENT_STATUSES)}")
        if key == "channel" and value not in CHANNELS:
            raise BroadcastError("channel must be sms or whatsapp")
        out[key] = normal_postcode(value) if key == "postcode" else value.lower() if key == "tag" else value
    return out


def parse_audience(text: str) -> dict:
    """Read the command line's "status=in_progress,channel=sms" (or "all")."""
    if text.strip().lower() in ("", "all"):
        return {}
    pairs = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in AUDIENCE_KEYS:
            raise BroadcastError(f"audience parts look like key=value with key in {', '.join(AUDIENCE_KEYS)}")
        pairs[key.strip()] = value.strip()
    return clean_audience(pairs)


def audience_ids(settings, now: datetime, audience: dict):
    """A select of the ids of carers this audience reaches: consenting (not opted out, not erased) only."""
    latest = (select(Conversation.carer_id, func.max(Conversation.id).label("conv_id"))
              .group_by(Conversation.carer_id).subquery())
    query = (select(Carer.id)
             .outerjoin(latest, latest.c.carer_id == Carer.id)
             .outerjoin(Conversation, Conversation.id == latest.c.conv_id)
             .where(Carer.opted_out.is_(False), Carer.phone.is_not(None), Carer.erased_at.is_(None)))
    status = audience.get("status")
    if status:
        review_from = now - parse_duration(settings.review_after)
        if status == "not_started":
            query = query.where(or_(Conversation.id.is_(None), Conversation.assessment_status == "not_started"))
        elif status == "in_progress":
            query = query.where(Conversation.assessment_status == "in_progress")
        elif status == "completed":
            query = query.where(Conversation.assessment_status == "completed",
                                or_(Conversation.completed_at.is_(None), Conversation.completed_at > review_from))
        else:  # review_due: completed long enough ago that the yearly review is owed
            query = query.where(Conversation.assessment_status == "completed", Conversation.completed_at <= review_from)
    if audience.get("language"):
        query = query.where(Carer.language == audience["language"])
    if audience.get("channel"):
        query = query.where(Carer.channel == audience["channel"])
    if audience.get("postcode"):
        query = query.where(exists().where(CarerPostcode.carer_id == Carer.id,
                                           CarerPostcode.postcode.startswith(audience["postcode"])))
    if audience.get("tag"):
        query = query.where(exists().where(CarerTag.carer_id == Carer.id, CarerTag.tag == audience["tag"]))
    return query


@dataclass
class Preview:
    """Reach and cost before sending: carers by channel and the SMS segments the council pays for."""

    carers: int = 0
    sms: int = 0
    whatsapp: int = 0
    whatsapp_template: int = 0
    segments_each: int = 0
    unicode: bool = False
    sms_segments: int = 0
    seconds_at_rate: float = 0.0
    own_hours: int = 0  # carers who gave the hours that suit them
    waiting_for_hours: int = 0  # of those, outside their hours now: theirs go when the hours open
    last_hours_open: datetime | None = None  # when the last of those hours opens, if sent now (council's time)
    by_channel: dict = field(default_factory=dict)


def preview(session: Session, settings, now: datetime, message: str, audience: dict) -> Preview:
    """How many carers this reaches, what it costs in SMS segments, and how many wait for their own hours."""
    ids = audience_ids(settings, now, audience).subquery()
    window_open = Carer.last_inbound_at >= now - outbox.WHATSAPP_WINDOW
    rows = session.execute(
        select(Carer.channel, func.count(), func.sum(case((window_open, 1), else_=0)))
        .where(Carer.id.in_(select(ids.c.id))).group_by(Carer.channel)
    ).all()
    p = Preview(segments_each=segments(message) if message else 0, unicode=bool(message) and not is_gsm7(message))
    for channel, count, open_count in rows:
        p.by_channel[channel] = count
        p.carers += count
        if channel == "whatsapp":
            p.whatsapp += count
            p.whatsapp_template += count - int(open_count or 0)
        else:
            p.sms += count
    p.sms_segments = p.sms * p.segments_each
    rate = max(settings.send_rate_per_second, 1e-9)
    # Each sender is paced on its own, so the slower of the two decides how long it takes.
    p.seconds_at_rate = max(p.sms, p.whatsapp) / rate
    quiet, no_quiet, zone = QuietHours.parse(settings.quiet_hours), QuietHours.parse(""), ZoneInfo(settings.timezone)
    # A few phrasings cover most carers, so each is read once (contact_window caches it).
    for words, count in session.execute(
        select(Carer.contact_window, func.count())
        .where(Carer.id.in_(select(ids.c.id)), Carer.contact_window.is_not(None)).group_by(Carer.contact_window)
    ):
        window = contact_window(words)
        if window is None:
            continue
        p.own_hours += count
        if not is_allowed(now, no_quiet, window, zone):
            p.waiting_for_hours += count
            opens = next_allowed(now, quiet, window, zone).astimezone(zone)
            p.last_hours_open = max(opens, p.last_hours_open or opens)
    return p


# -- the life of a broadcast -----------------------------------------------------------------------


def create(session: Session, now: datetime, *, message: str, audience: dict, created_by: int | None = None,
           send_until: datetime | None = None) -> Broadcast:
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


def _transition(session: Session, broadcast_id: int, from_states: tuple[str, ...], **values) -> bool:
    return session.execute(
        update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.state.in_(from_states))
        .values(**values).execution_options(synchronize_session=False)
    ).rowcount == 1


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
    return session.execute(
        update(Message).where(Message.broadcast_id == broadcast_id, Message.direction == Direction.OUT,
                              Message.state == MessageState.PENDING)
        .values(state=MessageState.SKIPPED, error_note="broadcast_stopped", processed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


# -- the tick: start what is due, hand the next slice to the outbox ----------------------------------


@dataclass
class TickResult:
    started: int = 0
    queued: int = 0
    skipped: int = 0
    finished: int = 0


def sender_key(settings, channel: str) -> str:
    """The sender a message leaves from: the rate is per sender."""
    if settings.twilio_messaging_service_sid:
        return settings.twilio_messaging_service_sid
    return settings.twilio_whatsapp_from if channel == "whatsapp" else settings.twilio_sms_from


def _senders(settings) -> set[str]:
    """Every sender a broadcast may leave from (one, with a Messaging Service)."""
    return {sender_key(settings, "sms"), sender_key(settings, "whatsapp")}


def tick(services) -> TickResult:
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


def _start(services, broadcast_id: int) -> int:
    """Fix the audience (one INSERT ... SELECT, however many carers) and mark it running."""
    now = services.clock.now()
    with services.db.session() as session:
        if not _transition(session, broadcast_id, (BroadcastState.SCHEDULED,), state=BroadcastState.RUNNING,
                           started_at=now):
            return 0
        broadcast = session.get(Broadcast, broadcast_id)
        ids = audience_ids(services.settings, now, broadcast.audience or {}).subquery()
        session.execute(insert(BroadcastRecipient).from_select(
            ["broadcast_id", "carer_id", "state"],
            select(literal(broadcast_id), ids.c.id, literal(RecipientState.WAITING.value))))
        broadcast.recipients = session.scalar(
            select(func.count()).select_from(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == broadcast_id))
        log.info("broadcast started id=%s recipients=%s", broadcast_id, broadcast.recipients)
    return 1


def _template(settings, message: str) -> tuple[str | None, dict | None]:
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


def _slice(services, broadcast_id: int, result: TickResult) -> None:
    """Queue the recipients whose turn falls before the next tick, each at its own moment 1/R apart."""
    settings, now = services.settings, services.clock.now()
    quiet, zone = QuietHours.parse(settings.quiet_hours), ZoneInfo(settings.timezone)
    gap = timedelta(seconds=1.0 / max(settings.send_rate_per_second, 1e-9))
    horizon = now + max(timedelta(seconds=settings.broadcast_tick_seconds), gap)
    with services.db.session() as session:
        # First write in the transaction: holds the row, so a stop waits for this slice and then skips it.
        if not _transition(session, broadcast_id, (BroadcastState.RUNNING,), state=BroadcastState.RUNNING):
            return
        broadcast = session.get(Broadcast, broadcast_id)
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
        next_slot, queued, skipped = dict(first_slot), [], []
        for recipient in waiting:
            carer = carers.get(recipient.carer_id)
            reason = _skip_reason(carer)
            if reason:
                skipped.append((recipient, reason))
                continue
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
    count = session.execute(
        update(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == broadcast.id,
                                         BroadcastRecipient.state == RecipientState.WAITING)
        .values(state=RecipientState.SKIPPED, reason=reason).execution_options(synchronize_session=False)).rowcount
    broadcast.skipped += count
    return count


def _finish(session: Session, broadcast: Broadcast, now: datetime, result: TickResult) -> None:
    broadcast.state, broadcast.finished_at = BroadcastState.DONE, now
    result.finished += 1
    log.info("broadcast handed over id=%s queued=%s skipped=%s", broadcast.id, broadcast.queued, broadcast.skipped)


# -- the gate at the moment of sending --------------------------------------------------------------


LOOK_AHEAD = timedelta(milliseconds=3)


class SendGate:
    """Holds a broadcast message back until its sender is free, so however late the outbox runs, never faster than R."""

    def __init__(self, settings, clock):
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
        took = session.execute(
            update(BroadcastSendGate).where(BroadcastSendGate.sender == key, BroadcastSendGate.next_free_at <= now)
            .values(next_free_at=now + gap).execution_options(synchronize_session=False)).rowcount
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
    failed_by_code: dict = field(default_factory=dict)
    skipped: int = 0
    skipped_by_reason: dict = field(default_factory=dict)
    held_for_hours: int = 0  # queued, waiting in the outbox for the hours the carer asked to be texted in
    segments: int = 0
    callbacks: int = 0
    by_channel: dict = field(default_factory=dict)

    @property
    def done_share(self) -> float:
        """How far along: recipients no longer waiting for their turn."""
        return 1.0 if not self.recipients else (self.recipients - self.waiting) / self.recipients

    def as_json(self) -> dict:
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
               Message.state.in_(UNSENT)))
    r.callbacks = session.scalar(
        select(func.count()).select_from(StatusEvent)
        .where(StatusEvent.twilio_sid.in_(select(Message.twilio_sid).where(Message.broadcast_id == broadcast_id)))) or 0
    return r


def listing(session: Session, limit: int = 100) -> list[Broadcast]:
    return list(session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)))
