"""Reminders over days: kind nudges when a carer goes quiet, a yearly review, and the WhatsApp window."""

from __future__ import annotations

import json
import logging
import os
import socket
from enum import StrEnum
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, Iterator, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, bindparam, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.catalogue import Catalogue
from bot.config import Settings
from bot.db import Database, rows_changed
from bot.messaging import outbox
from bot.adapters.twilio_sender import Outgoing
from bot.timing.clock import Clock, as_utc
from bot.timing import working_days
from bot.timing.come_back import come_back_at
from bot.models import (AssessmentStatus, Base, Carer, Conversation, ConversationState, Direction, Message, MessageKind,
                        MessageState)
from bot.timing.quiet_hours import (ContactWindow, QuietHours, contact_window, next_allowed, parse_duration,
                             parse_schedule)

log = logging.getLogger("carertext.reminders")

NUDGE_KINDS_PREFIX = ("nudge", "last")
REVIEW = "review"
# PostgreSQL's advisory lock for "the one scheduler ticking now": our number plus the schema, since
# advisory locks are per database and two CarerText schemas (or test runs) may share one.
ADVISORY_LOCK_KEY = 0x43617265  # "Care"
FAILED_STATUSES = ("failed", "undelivered")


class ReminderState(StrEnum):
    """A reminder waits (pending), was handed to the outbox (sent), or is not to be sent (cancelled, skipped)."""

    PENDING = "pending"
    SENT = "sent"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class Reminder(Base):
    """One reminder CarerText owes a carer: what, when, and what became of it."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_due", "state", "due_at"),
        Index("ix_reminders_carer", "carer_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    carer_id: Mapped[int] = mapped_column(ForeignKey("carers.id"))
    conversation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("conversations.id"))
    # nudge1, nudge2 ... (as many as REMINDER_SCHEDULE has, less one), last, review
    kind: Mapped[str] = mapped_column(String(16))
    # The carer's message the schedule counts from (or the completion, for a review).
    anchor_at: Mapped[datetime]
    # When the schedule wanted it; due_at moves on from here for quiet hours and the carer's window.
    planned_at: Mapped[datetime]
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default=ReminderState.PENDING)
    reason: Mapped[Optional[str]] = mapped_column(String(64))
    # How it went: whatsapp, template, sms; changes when WhatsApp's window sends it another way.
    route: Mapped[Optional[str]] = mapped_column(String(16))
    message_id: Mapped[Optional[int]] = mapped_column(ForeignKey("messages.id"), index=True)
    created_at: Mapped[datetime]
    handed_at: Mapped[Optional[datetime]]


class ReminderPreference(Base):
    """What a carer allowed for reminders; SMS fallback is on for carers who first texted by SMS."""

    __tablename__ = "reminder_preferences"

    carer_id: Mapped[int] = mapped_column(ForeignKey("carers.id"), primary_key=True)
    sms_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# -- the schedule ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pacing:
    """The reminder settings, read once per services object."""

    delays: list[timedelta]
    quiet: QuietHours
    zone: ZoneInfo
    review_after: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> "Pacing":
        return cls(parse_schedule(settings.reminder_schedule), QuietHours.parse(settings.quiet_hours),
                   ZoneInfo(settings.timezone), parse_duration(settings.review_after))

    def kinds(self) -> list[str]:
        n = len(self.delays)
        return [f"nudge{i}" for i in range(1, n)] + ["last"] if n else []

    def when(self, moment: datetime, carer: Carer) -> datetime:
        """The first moment at or after `moment` that suits the carer and is outside quiet hours."""
        return next_allowed(moment, self.quiet, contact_window(carer.contact_window), self.zone)


def _is_nudge(kind: str) -> bool:
    return kind.startswith(NUDGE_KINDS_PREFIX)


# Run on every carer's message: built once, as building costs more than running it.
CANCEL_NUDGES = (update(Reminder)
                 .where(Reminder.carer_id == bindparam("p_carer_id"), Reminder.state == ReminderState.PENDING,
                        Reminder.kind != REVIEW)
                 .values(state=ReminderState.CANCELLED, reason=bindparam("p_reason"))
                 .execution_options(synchronize_session=False))
CANCEL_NUDGES_BUT = CANCEL_NUDGES.where(Reminder.anchor_at != bindparam("p_anchor"))


def cancel_nudges(session: Session, carer_id: int, reason: str, keep_anchor: datetime | None = None) -> int:
    """Cancel a carer's pending nudges (not the review); returns how many."""
    params = {"p_carer_id": carer_id, "p_reason": reason}
    if keep_anchor is None:
        return rows_changed(session.execute(CANCEL_NUDGES, params))
    return rows_changed(session.execute(CANCEL_NUDGES_BUT, {**params, "p_anchor": keep_anchor}))


def schedule_nudges(session: Session, pacing: Pacing, now: datetime, carer: Carer, conv: Conversation,
                    anchor: datetime, first: datetime | None = None) -> list[Reminder]:
    """Start the nudge schedule from the carer's last message; a second call for the same message is a no-op.

    first: when the carer asked to hear from us again; the schedule keeps its spacing from there."""
    anchor = as_utc(anchor)
    cancel_nudges(session, carer.id, "rescheduled", keep_anchor=anchor)
    existing = session.scalars(select(Reminder).where(
        Reminder.carer_id == carer.id, Reminder.state == ReminderState.PENDING, Reminder.kind != REVIEW)).all()
    if existing:
        return list(existing)
    made = []
    for kind, delay in zip(pacing.kinds(), pacing.delays, strict=True):
        planned = anchor + delay if first is None else as_utc(first) + (delay - pacing.delays[0])
        made.append(Reminder(carer_id=carer.id, conversation_id=conv.id, kind=kind, anchor_at=anchor,
                             planned_at=planned, due_at=pacing.when(planned, carer), state=ReminderState.PENDING,
                             created_at=now))
    session.add_all(made)
    session.flush()
    return made


def schedule_review(session: Session, pacing: Pacing, now: datetime, carer: Carer, conv: Conversation) -> Reminder:
    """A review reminder REVIEW_AFTER from completion; one per conversation."""
    session.execute(update(Reminder)
                    .where(Reminder.conversation_id == conv.id, Reminder.kind == REVIEW,
                           Reminder.state == ReminderState.PENDING)
                    .values(state=ReminderState.CANCELLED, reason="rescheduled")
                    .execution_options(synchronize_session=False))
    planned = now + pacing.review_after
    reminder = Reminder(carer_id=carer.id, conversation_id=conv.id, kind=REVIEW, anchor_at=now, planned_at=planned,
                        due_at=pacing.when(planned, carer), state=ReminderState.PENDING, created_at=now)
    session.add(reminder)
    session.flush()
    return reminder


def retime(session: Session, pacing: Pacing, carer: Carer) -> None:
    """Move a carer's pending reminders into the window they have just given."""
    pending = select(Reminder).where(Reminder.carer_id == carer.id, Reminder.state == ReminderState.PENDING)
    for reminder in session.scalars(pending):
        reminder.due_at = pacing.when(as_utc(reminder.planned_at), carer)


# -- SMS fallback ----------------------------------------------------------------------------------


def preference(session: Session, carer: Carer, now: datetime) -> ReminderPreference:
    """The carer's reminder preferences, made on first sight from the channel they first used."""
    pref = session.get(ReminderPreference, carer.id)
    if pref is None:
        first = session.scalars(select(Message.channel)
                                .where(Message.carer_id == carer.id, Message.direction == Direction.IN)
                                .order_by(Message.id).limit(1)).first()
        pref = ReminderPreference(carer_id=carer.id, sms_fallback=(first or carer.channel) == "sms", updated_at=now)
        session.add(pref)
        session.flush()
    return pref


def allow_sms_fallback(session: Session, carer: Carer, allowed: bool, now: datetime) -> None:
    """Record whether a WhatsApp carer lets us text them by SMS when WhatsApp cannot reach them."""
    pref = preference(session, carer, now)
    pref.sms_fallback, pref.updated_at = allowed, now


# -- WhatsApp's 24-hour window ---------------------------------------------------------------------


class WindowRoutes:
    """WhatsApp's 24-hour window closed: a reminder goes as the approved template, or by SMS if allowed."""

    def __init__(self, settings: Settings, clock: Clock, catalogue: Catalogue):
        self.settings = settings
        self.clock = clock
        self.catalogue = catalogue

    def on_outside_window(self, session: Session, message: Message,
                          carer: Carer) -> tuple[Outgoing, None] | tuple[None, str | None]:
        """Free text to a closed WhatsApp window: the approved template, else SMS if allowed, else why not."""
        route, reason = self.reroute(session, message, carer)
        assert carer.phone is not None  # the outbox skips an erased carer before asking
        settings = self.settings
        service = settings.twilio_messaging_service_sid or None
        if route == "template":
            return Outgoing(to=f"whatsapp:{carer.phone}", from_=settings.twilio_whatsapp_from,
                            content_sid=message.content_sid, content_variables=message.content_variables,
                            messaging_service_sid=service), None
        if route == "sms":
            return Outgoing(to=carer.phone, from_=settings.twilio_sms_from, body=message.body,
                            messaging_service_sid=service), None
        return None, reason

    def reroute(self, session: Session, message: Message, carer: Carer) -> tuple[str | None, str | None]:
        """Change the message so the outbox sends it the next way; returns (route, reason not sent)."""
        reminder = session.scalars(select(Reminder).where(Reminder.message_id == message.id)).first()
        now = self.clock.now()
        if message.channel == "whatsapp" and not message.content_sid and reminder is not None:
            sid, variables = self._template(session, reminder, carer)
            if sid:
                message.content_sid, message.content_variables = sid, variables
                reminder.route = "template"
                return "template", None
        if message.channel == "whatsapp" and preference(session, carer, now).sms_fallback:
            message.channel, message.content_sid, message.content_variables = "sms", None, None
            if reminder is not None:
                reminder.route = "sms"
            return "sms", None
        if message.channel == "whatsapp" and message.content_sid:
            reason = "whatsapp_template_refused_no_sms"
        elif reminder is not None and message.channel == "whatsapp":
            reason = "whatsapp_window_no_template_no_sms"
        else:
            reason = "whatsapp_window_closed"
        if reminder is not None:
            reminder.state, reminder.reason = ReminderState.SKIPPED, reason
        return None, reason

    def _template(self, session: Session, reminder: Reminder, carer: Carer) -> tuple[str, dict[str, str] | None]:
        settings = self.settings
        if reminder.kind == REVIEW:
            return settings.whatsapp_review_content_sid, {}
        sid = settings.whatsapp_reminder_content_sid
        if not sid:
            return "", None
        conv = session.get(Conversation, reminder.conversation_id) if reminder.conversation_id else None
        fields = {"section": self.section_words(conv, carer)}
        raw = json.loads(settings.whatsapp_reminder_content_variables or "{}")
        return sid, {str(k): str(v).format(**fields) for k, v in raw.items()}

    def section_words(self, conv: Conversation | None, carer: Carer) -> str:
        catalogue = self.catalogue
        key = f"reminder.section.{conv.current_section}" if conv is not None and conv.current_section else ""
        return catalogue.text(key if key and catalogue.has(key, carer.language) else "reminder.section.default",
                              carer.language)


# -- the tick --------------------------------------------------------------------------------------


@dataclass
class TickResult:
    handed: int = 0
    rescheduled: int = 0
    skipped: int = 0
    rerouted: int = 0
    sent: int = 0
    active: bool = True


class Reminders:
    """Nudges and reviews planned from the conversation's events, and the tick that hands them to the outbox.

    The conversation runs the on_ handlers after its reply has left (services.build wires them)."""

    def __init__(self, db: Database, clock: Clock, settings: Settings, catalogue: Catalogue, outbox: outbox.Outbox,
                 routes: WindowRoutes):
        self.db = db
        self.clock = clock
        self.settings = settings
        self.catalogue = catalogue
        self.outbox = outbox
        self.routes = routes
        self.pacing = Pacing.from_settings(settings)
        self.claimer = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    # -- the conversation's events -------------------------------------------------------------

    def on_inbound(self, session: Session, carer_id: int) -> None:
        """Any message from the carer cancels the nudges waiting for them."""
        # The preference row is made when first needed, from the first message's channel: not here,
        # where it would cost a read on every carer's message.
        cancel_nudges(session, carer_id, "carer_replied")

    def on_progress(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
              ev: dict[str, Any]) -> None:
        """The bot has asked the next question: nudge if the carer goes quiet now."""
        if conv.state == ConversationState.BOT and conv.assessment_status == AssessmentStatus.IN_PROGRESS:
            schedule_nudges(session, self.pacing, now, carer, conv, msg.created_at if msg is not None else now)

    def on_paused(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
              ev: dict[str, Any]) -> None:
        """The carer had to stop: the same gentle schedule brings them back, from the time they asked for if any."""
        finished = (AssessmentStatus.COMPLETED, AssessmentStatus.ENDED)
        if conv.state == ConversationState.BOT and conv.assessment_status not in finished:
            first = come_back_at(str(ev.get("when") or ""), now, self.pacing.zone,
                                 working_days.for_settings(self.settings)) if ev.get("when") else None
            schedule_nudges(session, self.pacing, now, carer, conv, msg.created_at if msg is not None else now,
                            first=first)

    def on_completed(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
              ev: dict[str, Any]) -> None:
        cancel_nudges(session, carer.id, "completed")
        schedule_review(session, self.pacing, now, carer, conv)

    def on_contact_window(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
              ev: dict[str, Any]) -> None:
        if not ContactWindow.parse(carer.contact_window).understood:
            log.info("contact window not understood carer=%s; quiet hours only", carer.public_id[:8])
        retime(session, self.pacing, carer)
        if conv.state == ConversationState.BOT and conv.assessment_status == AssessmentStatus.IN_PROGRESS:
            # The bot acknowledged and the question still waits: the schedule starts again in the new window.
            schedule_nudges(session, self.pacing, now, carer, conv, msg.created_at if msg is not None else now)

    def on_opt_out(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
              ev: dict[str, Any]) -> None:
        cancel_nudges(session, carer.id, "opted_out")

    def on_life_event(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
              ev: dict[str, Any]) -> None:
        """The person cared for has died: no reminder about the assessment, ever."""
        cancel_nudges(session, carer.id, str(ev.get("kind") or "life_event")[:64])

    # -- the tick ------------------------------------------------------------------------------

    def tick(self, send: bool = True) -> TickResult:
        """Hand every due reminder to the outbox once, then let the outbox send; safe to run twice at once."""
        result = TickResult()
        with self._only_scheduler() as active:
            if not active:
                result.active = False
                return result
            seen: set[int] = set()
            while True:  # batch after batch until nothing is due, so a backlog is not left for later ticks
                now = self.clock.now()
                with self.db.session() as session:
                    due = [i for i in session.scalars(
                        select(Reminder.id).where(Reminder.state == ReminderState.PENDING, Reminder.due_at <= now)
                        .order_by(Reminder.due_at, Reminder.id).limit(self.settings.reminder_batch)
                    ).all() if i not in seen]
                if not due:
                    break
                seen.update(due)
                for outcome in self._hand_over(due):
                    if outcome == ReminderState.SENT:
                        result.handed += 1
                    elif outcome == ReminderState.PENDING:
                        result.rescheduled += 1
                    elif outcome == ReminderState.SKIPPED:
                        result.skipped += 1
            result.rerouted = self._after_window_refusals()
            if send:
                result.sent = self.outbox.send_due()
                # A 63016 at create time is known at once: send it the next way in this same tick.
                again = self._after_window_refusals()
                if again:
                    result.rerouted += again
                    result.sent += self.outbox.send_due()
        if result.handed or result.rescheduled or result.skipped or result.rerouted:
            log.info("tick handed=%s rescheduled=%s skipped=%s rerouted=%s sent=%s", result.handed,
                     result.rescheduled, result.skipped, result.rerouted, result.sent)
        return result

    @contextmanager
    def _only_scheduler(self) -> Iterator[bool]:
        """On PostgreSQL only one scheduler ticks at a time; elsewhere the row claims alone keep it once."""
        if not self.db.is_postgres:
            yield True
            return
        with self.db.engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))"),
                               {"k": ADVISORY_LOCK_KEY}).scalar()
            conn.commit()
            try:
                yield bool(got)
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"),
                                 {"k": ADVISORY_LOCK_KEY})
                    conn.commit()

    def _hand_over(self, reminder_ids: list[int]) -> list[str]:
        """Claim a batch of due reminders and put their messages in the outbox, in one transaction."""
        now = self.clock.now()
        with self.db.session() as session:
            # Claimed rows only: another scheduler's claim or a carer's message leaves them out.
            claimed = session.scalars(
                update(Reminder)
                .where(Reminder.id.in_(reminder_ids), Reminder.state == ReminderState.PENDING, Reminder.due_at <= now)
                .values(state=ReminderState.SENT, handed_at=now)
                .returning(Reminder.id)
                .execution_options(synchronize_session=False)
            ).all()
            if not claimed:
                return []
            reminders = session.scalars(select(Reminder).where(Reminder.id.in_(claimed)).order_by(Reminder.id)).all()
            carers = {c.id: c for c in session.scalars(
                select(Carer).where(Carer.id.in_({r.carer_id for r in reminders})))}
            conv_ids = {r.conversation_id for r in reminders if r.conversation_id}
            convs = {c.id: c for c in session.scalars(select(Conversation).where(Conversation.id.in_(conv_ids)))}
            queued: list[tuple[Reminder, Message]] = []
            outcomes = [self._hand_over_one(session, now, r, carers[r.carer_id],
                                            convs.get(r.conversation_id) if r.conversation_id else None, queued)
                        for r in reminders]
            session.flush()  # the batch's messages in one INSERT: one round trip per message was the cost
            for reminder, message in queued:
                reminder.message_id = message.id
            return outcomes

    def _hand_over_one(self, session: Session, now: datetime, reminder: Reminder, carer: Carer,
                       conv: Conversation | None, queued: list[tuple[Reminder, Message]]) -> str:
        """Decide one claimed reminder: skip it, let it wait for the window, or put it in the outbox."""
        reason = self._why_not(reminder, carer, conv)
        if reason:
            reminder.state, reminder.reason = (ReminderState.CANCELLED if reason == "carer_replied"
                                                else ReminderState.SKIPPED), reason
            return ReminderState.SKIPPED
        allowed = self.pacing.when(now, carer)
        if allowed > now:
            # Quiet hours or outside the carer's window: wait for it to open, never drop.
            reminder.state, reminder.due_at, reminder.handed_at = ReminderState.PENDING, allowed, None
            return ReminderState.PENDING
        key = f"reminder.{reminder.kind}"
        if not self.catalogue.has(key, carer.language):
            key = "reminder.nudge"
        body = self.catalogue.text(key, carer.language, section=self.routes.section_words(conv, carer))
        message = outbox.enqueue(session, now, carer=carer, conversation=conv, body=body, kind=MessageKind.REMINDER,
                                 channel=carer.channel, flush=False)
        reminder.route = carer.channel
        queued.append((reminder, message))
        return ReminderState.SENT

    def _why_not(self, reminder: Reminder, carer: Carer, conv: Conversation | None) -> str | None:
        """A reason this reminder must not go now, if there is one."""
        if carer.phone is None:
            return "erased"
        if carer.opted_out:
            return "opted_out"
        if reminder.kind == REVIEW:
            return None
        if conv is None or conv.state == ConversationState.CLOSED:
            return "closed"
        if conv.state != ConversationState.BOT:
            return "with_person"
        if conv.assessment_status in (AssessmentStatus.COMPLETED, AssessmentStatus.ENDED):
            return conv.assessment_status
        last = as_utc(carer.last_inbound_at)
        if last is not None and last > as_utc(reminder.anchor_at):
            return "carer_replied"  # their message is still in the inbox: the hook has not run yet
        return None

    def _after_window_refusals(self) -> int:
        """Reminders WhatsApp refused with 63016 (at create or in a callback): send them the next way."""
        done = 0
        with self.db.session() as session:
            rows = session.execute(
                select(Reminder.id, Message.id, Message.state)
                .join(Message, Message.id == Reminder.message_id)
                .where(Reminder.state == ReminderState.SENT, Message.channel == "whatsapp",
                       ((Message.state == MessageState.PENDING) & (Message.error_note == "outside_window"))
                       | ((Message.error_code == outbox.OUTSIDE_WINDOW)
                          & Message.delivery_status.in_(FAILED_STATUSES)))
            ).all()
        for reminder_id, message_id, state in rows:
            done += self._retry_refused(reminder_id, message_id, state)
        return done

    def _retry_refused(self, reminder_id: int, message_id: int, state: str) -> int:
        now = self.clock.now()
        with self.db.session() as session:
            if state == MessageState.PENDING:
                # Still ours to change: take it from the outbox's retry so it is not sent free-form again.
                took = rows_changed(session.execute(
                    update(Message).where(Message.id == message_id, Message.state == MessageState.PENDING)
                    .values(state=MessageState.SENDING, next_attempt_at=now + outbox.sending_lease(self.settings))
                    .execution_options(synchronize_session=False)))
                if took != 1:
                    return 0
                message = session.get_one(Message, message_id)
                assert message.carer_id is not None  # a reminder's message is always to its carer
                carer = session.get_one(Carer, message.carer_id)
                route, reason = self.routes.reroute(session, message, carer)
                if route:
                    message.state, message.next_attempt_at = MessageState.PENDING, now
                    message.error_note = f"rerouted_{route}"
                else:
                    message.state, message.error_note, message.processed_at = MessageState.SKIPPED, reason, now
                return 1
            # Delivered as "failed" by a callback: a new message, claimed by moving the reminder onto it.
            old = session.get_one(Message, message_id)
            assert old.carer_id is not None  # a reminder's message is always to its carer
            carer = session.get_one(Carer, old.carer_id)
            retry = outbox.enqueue(session, now, carer=carer, conversation=None, body=old.body,
                                   kind=MessageKind.REMINDER, channel=old.channel, content_sid=old.content_sid,
                                   content_variables=old.content_variables)
            retry.conversation_id = old.conversation_id
            moved = rows_changed(session.execute(
                update(Reminder).where(Reminder.id == reminder_id, Reminder.message_id == message_id)
                .values(message_id=retry.id).execution_options(synchronize_session=False)))
            if moved != 1:
                session.rollback()
                return 0
            route, reason = self.routes.reroute(session, retry, carer)
            if route is None:
                retry.state, retry.error_note, retry.processed_at = MessageState.SKIPPED, reason, now
            log.info("reminder rerouted after 63016 reminder=%s route=%s", reminder_id, route or reason)
            return 1


class WithReminders(Protocol):
    """Services that carry the reminders."""

    @property
    def reminders(self) -> Reminders: ...


def tick(services: WithReminders, send: bool = True) -> TickResult:
    """One pass of the scheduler for these services."""
    return services.reminders.tick(send=send)
