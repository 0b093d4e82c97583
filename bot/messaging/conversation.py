"""One inbound message, start to finish: opt-out, safeguarding, a person or the bot, and the replies."""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol, cast

from sqlalchemy import Row, Table, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from bot.catalogue import OPT_IN_WORDS, OPT_OUT_WORDS
from bot.duty import handoff as handoffs
from bot.messaging import outbox, whatsapp_buttons
from bot.timing import working_days
from bot.adapters.rasa_client import DialogueModel, RasaMessage, RasaUnavailable
from bot.parts import Core
from bot.timing.clock import as_utc
from bot.messaging.inbox import LEASE_FREE, Claim
from bot.models import Answer, AssessmentStatus, Carer, Conversation, ConversationState, Message, MessageState
from bot.duty.safeguarding import Concern, Tier

log = logging.getLogger("carertext.conversation")

# Answers to "are you safe right now?"; anything else is taken as the carer moving on.
SAFE = re.compile(r"^(yes|yeah|yep|yup|yh|ya|y|i am|im|i am safe|im safe|safe|ok|okay|fine|i am ok|im ok|i am fine|"
                  r"im fine|all good|yes thanks|yes thank you|yes i am|yes im safe|yes i am safe)\b(?!.*\bnot\b)")
NOT_SAFE = re.compile(r"^(no|nope|nah|n|not really|not safe|i am not|im not|i dont think so|dont know|unsure)\b"
                      r"|\bnot safe\b|\bunsafe\b")

# The reply path's statements, built once: building one costs more than running it (about 1 ms).
_older = aliased(Message)
HEAD = (
    select(Message, Conversation, Carer,
           select(_older.created_at)
           .where(_older.carer_id == Message.carer_id, _older.direction == "in", _older.id < Message.id)
           .order_by(_older.id.desc()).limit(1).correlate(Message).scalar_subquery(),
           outbox.OUTBOX_BUSY)
    .join(Conversation, Conversation.id == Message.conversation_id)
    .join(Carer, Carer.id == Message.carer_id)
    .where(Message.carer_id == bindparam("p_carer_id"), Message.direction == "in",
           Message.state.in_(("pending", "processing")))
    .order_by(Message.id).limit(1)
)
_carers = cast(Table, Carer.__table__)  # typed as any FromClause; a declarative class's is its Table
# Core, not ORM: the carer row comes with the head read, and ORM's UPDATE ... RETURNING costs twice as much.
TAKE_LEASE = (
    update(_carers)
    .where(_carers.c.id == bindparam("p_carer_id"), or_(LEASE_FREE, _carers.c.lease_owner == bindparam("p_owner")))
    .values(lease_owner=bindparam("p_owner"), lease_until=bindparam("p_until"))
)

# A custom payload Rasa sent: {"event": ..., and what that event carries}, or {"say": ..., "choices": ...}.
RasaEvent = dict[str, Any]


class EventHandler(Protocol):
    """What a Rasa event does; called by keyword too, once the reply has left (after_reply)."""

    def __call__(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
                 ev: RasaEvent) -> None: ...


class InboundHook(Protocol):
    """Work for after the reply on every carer's message, given the carer's id."""

    def __call__(self, session: Session, carer_id: int) -> None: ...


class Talking(Core, Protocol):
    """What a conversation needs of the services: the screen, the dialogue model and the outbox too."""

    @property
    def rasa(self) -> DialogueModel: ...

    @property
    def outbox(self) -> outbox.Outbox: ...

    @property
    def screen(self) -> Callable[[str], Concern | None]: ...


def keyword(text: str) -> str:
    """The message as a single bare word, if it is one ("Stop." -> "stop")."""
    return "".join(ch for ch in text.strip().lower() if ch.isalnum())


@dataclass
class Turn:
    """One carer message on its way to Rasa: what was read before the call, kept for after it."""

    msg: Message
    carer: Carer
    conv: Conversation
    text: str
    key: str
    retry: bool
    rotate: bool
    metadata: dict[str, Any] = field(default_factory=dict)
    # Bookkeeping for after the reply has left (outbox.Replies).
    after: list[Callable[[Session], None]] = field(default_factory=list)
    outbox_clear: bool = False  # nothing waits to go to the carer: the first reply may leave before its record


class Conversations:
    """Works through each carer's inbox in order, one worker per carer at a time."""

    def __init__(self, services: Talking, *, on_inbound: Iterable[InboundHook] = (),
                 events: Mapping[str, EventHandler] | None = None,
                 after_reply: Mapping[str, EventHandler] | None = None):
        self.s = services
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        # Each worker thread leases as itself: threads of one process share this object, and a lease
        # shared between them let two threads handle one carer's message at once (a doubled reply).
        self._thread = threading.local()
        self.event_handlers: dict[str, EventHandler] = {
            "answer": self._on_answer,
            "handoff": self._on_handoff,
            "progress": self._on_progress,
            "completed": self._on_completed,
            "opt_out": self._on_opt_out,
            "opt_in": self._on_opt_in,
            "contact_window": self._on_contact_window,
            "copy": self._on_copy,
            "life_event": self._on_life_event,
            **(events or {}),
        }
        # Run once the reply has left, after the handler above (if any): bookkeeping off the reply path.
        self.after_reply: dict[str, EventHandler] = dict(after_reply or {})
        self.on_inbound = list(on_inbound)

    # -- claiming work -------------------------------------------------------------------------

    def due_carers(self, limit: int = 50) -> list[int]:
        now = self.s.clock.now()
        with self.s.db.session() as session:
            rows = session.scalars(
                select(Message.carer_id)
                .where(Message.direction == "in", Message.state.in_(("pending", "processing")),
                       or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now))
                .group_by(Message.carer_id)
                .order_by(func.min(Message.id))
                .limit(limit)
            ).all()
        return [r for r in rows if r is not None]

    @property
    def lease_owner(self) -> str:
        """This thread's lease name: unique per thread, within the column's 64 characters."""
        owner = getattr(self._thread, "owner", None)
        if owner is None:
            owner = self._thread.owner = self.new_owner()
        return owner

    def new_owner(self) -> str:
        """A fresh lease name in this process, within the column's 64 characters (a thread's, or a hand-over's)."""
        return f"{uuid.uuid4().hex[:12]}:{self.worker_id}"[:64]

    def _lease_in(self, session: Session, carer_id: int, owner: str) -> bool:
        """Take or renew this carer's lease in the caller's transaction; False if another worker holds it."""
        now = self.s.clock.now()
        until = now + timedelta(seconds=self.s.settings.lease_seconds)
        return session.connection().execute(TAKE_LEASE, {"p_carer_id": carer_id, "p_now": now,
                                                         "p_owner": owner, "p_until": until}).rowcount == 1

    def _lease(self, carer_id: int, owner: str | None = None) -> bool:
        with self.s.db.session() as session:
            return self._lease_in(session, carer_id, owner or self.lease_owner)

    def _release(self, carer_id: int, owner: str | None = None) -> None:
        owner = owner or self.lease_owner
        with self.s.db.session() as session:
            session.execute(
                update(Carer).where(Carer.id == carer_id, Carer.lease_owner == owner)
                .values(lease_owner=None, lease_until=None).execution_options(synchronize_session=False)
            )

    def process_due(self) -> int:
        """Handle every carer with messages waiting; returns how many messages were finished."""
        return sum(self.process_leased(carer_id) for carer_id in self.due_carers())

    def leased_elsewhere(self, carer_id: int) -> bool:
        """Whether another worker holds this carer right now."""
        now = self.s.clock.now()
        with self.s.db.session() as session:
            carer = session.get(Carer, carer_id)
            return bool(carer and carer.lease_owner and carer.lease_owner != self.lease_owner
                        and carer.lease_until and as_utc(carer.lease_until) > now)

    def process_leased(self, carer_id: int, claim: Claim | None = None) -> int:
        """Handle this carer's waiting messages in the order they came, if no other worker holds the carer.

        With the webhook's hand-over (claim) the first message needs no transaction before Rasa."""
        owner = claim.owner if claim is not None else self.lease_owner
        done, held = 0, claim is not None
        if claim is not None and as_utc(claim.until) - self.s.clock.now() < timedelta(
                seconds=self.s.settings.lease_seconds / 2):
            claim = None  # waited long in the queue: renew the lease (still in its name) the usual way first
        try:
            while True:
                with self.s.db.session() as session, self._unit(None) as unit:
                    if claim is not None:
                        # Leased, stored as this attempt and read by the webhook: no statement runs here.
                        msg, conv, carer = claim.message, claim.conversation, claim.carer
                        previous_at = claim.previous_at
                        session.add_all((msg, conv, carer))
                        turn = self._open(session, unit, msg, carer, conv, previous_at, claim.outbox_clear,
                                          taken=True)
                        claim = None
                    else:
                        # Lease (or renew: a long burst must not let another worker in), the next message,
                        # its conversation and what comes before Rasa: one transaction on the reply path.
                        unit.carer_id = carer_id
                        if not self._lease_in(session, carer_id, owner):
                            return done  # another worker holds the carer: leave it to them
                        held = True
                        row = self._head(session, carer_id)
                        if row is None:
                            return done
                        msg, conv, carer, previous_at, outbox_busy = row
                        if msg.next_attempt_at is not None and as_utc(msg.next_attempt_at) > self.s.clock.now():
                            return done
                        turn = self._open(session, unit, msg, carer, conv, previous_at, not outbox_busy)
                if turn is not None and not self._talk(turn):
                    return done
                done += 1
        finally:
            if held:
                self._release(carer_id, owner)

    @contextmanager
    def _unit(self, carer_id: int | None,
              after: list[Callable[[Session], None]] | None = None) -> Iterator[outbox.Replies]:
        """One unit of work of a turn on this thread, which the unit queued in it are noted in."""
        unit = self._thread.unit = outbox.Replies(carer_id, after=[] if after is None else after)
        try:
            yield unit
        finally:
            self._thread.unit = None

    def _later(self, session: Session, work: Callable[[Session], None]) -> None:
        """Run work once this thread's turn has sent its reply; at once outside a turn (the console)."""
        unit = getattr(self._thread, "unit", None)
        if unit is None:
            work(session)
        else:
            unit.later(session, work)

    def _head(self, session: Session, carer_id: int) -> Row[Message, Conversation, Carer, datetime | None, bool] | None:
        """The carer's oldest unfinished message, its conversation, the carer, when their message before it
        came, and whether anything waits to go to them."""
        return session.execute(HEAD, {"p_carer_id": carer_id}).first()

    # -- one message -----------------------------------------------------------------------------

    def _open(self, session: Session, unit: outbox.Replies, msg: Message, carer: Carer, conv: Conversation,
              previous_at: datetime | None, outbox_clear: bool, taken: bool = False) -> Turn | None:
        """Everything before Rasa: opt-out, safeguarding, a person holding the conversation; None when done.

        taken: the webhook stored the message as this first attempt already."""
        settings = self.s.settings
        retry = msg.attempts > 0 and not taken
        if not taken:
            msg.state, msg.attempts = MessageState.PROCESSING, msg.attempts + 1
        after = unit.after
        assert after is not None  # a unit of work just opened: nothing has run its work yet
        text = (msg.body or "").strip()
        word = keyword(text)
        for hook in self.on_inbound:
            unit.later(session, partial(hook, carer_id=carer.id))
        if word in OPT_OUT_WORDS:
            self._opt_out(session, carer, conv, msg)
            self._finish(session, msg)
            return None
        if carer.opted_out:
            if word not in OPT_IN_WORDS and word != "yes":
                self._finish(session, msg)  # kept, never answered: they said STOP
                return None
            carer.opted_out, carer.opted_out_at = False, None
            text = "start"
        # Every message is screened, whatever the conversation's state: a person holding it included.
        concern = self.s.screen(text) if text else None
        if concern is not None and concern.tier == Tier.STRAIN and self.s.catalogue.is_choice(text, carer.language):
            concern = None  # "I can't manage it" picked from the choices answers the question; the worksheet has it
        if concern is not None and concern.tier >= Tier.RISK_DISCLOSED:
            self._crisis(session, carer, conv, msg, concern)
            self._finish(session, msg)
            return None
        if conv.state == ConversationState.SAFETY_CHECK:
            answered = self._safety_answer(session, carer, conv, msg, text)
            if answered is None:
                self._finish(session, msg)
                return None
            outbox_clear = outbox_clear and answered == text  # a thank-you waits: the question goes after it
            text = answered
        elif concern is not None and conv.state == ConversationState.BOT:
            self._safety_check(session, carer, conv, msg, concern)
            self._finish(session, msg)
            return None
        if conv.state != ConversationState.BOT:
            # A person holds the conversation (the console shows the message): never leave the carer in silence.
            self._acknowledge_waiting(session, carer, conv, msg)
            self._finish(session, msg)
            return None
        if not text:
            self._say(session, carer, conv, msg, "media_received" if msg.num_media else "empty_message")
            self._finish(session, msg)
            return None
        hours = 0.0
        if previous_at is not None:
            hours = round((as_utc(msg.created_at) - as_utc(previous_at)).total_seconds() / 3600, 2)
        key = msg.twilio_sid or f"m{msg.id}"
        return Turn(msg=msg, carer=carer, conv=conv, text=text, key=key, retry=retry, after=after,
                    outbox_clear=outbox_clear,
                    rotate=conv.turns_in_session >= settings.rasa_session_turns,
                    metadata={"channel": msg.channel, "language": carer.language, "message_key": key,
                              "resumed_after_hours": hours})

    def _talk(self, turn: Turn) -> bool:
        """Ask Rasa and turn its answer into replies; False when it must be retried later (Rasa unreachable)."""
        sender = turn.conv.rasa_sender
        try:
            if turn.rotate:
                self.s.rasa.new_session(sender)
            replies = self.s.rasa.replies_after(sender, turn.key) if turn.retry else None
            if replies is None:
                replies = self.s.rasa.reply(sender, turn.text, turn.metadata)
        except RasaUnavailable as exc:
            self._wait_for_rasa(turn.msg.id, str(exc))
            return False
        msg, carer, conv = turn.msg, turn.carer, turn.conv
        with self.s.db.session() as session, self._unit(carer.id, turn.after) as unit:
            # The rows read before the Rasa call are still current (the lease keeps other workers off
            # this carer); re-attaching them saves three round trips on the reply path.
            for row in (msg, carer, conv):
                session.add(row)
            if turn.rotate:
                conv.turns_in_session, conv.sessions_started = 0, conv.sessions_started + 1
            conv.turns_in_session += 1
            conv.last_message_at = msg.created_at  # set before the replies' flush: one UPDATE, not two
            carer.apology_sent_at = None
            self.apply_replies(session, carer, conv, msg, replies)
            if turn.retry:
                # The attempt before may have sent replies and died before writing them, and Rasa may not
                # remember answering (a tracker lost with it): each is looked for at Twilio first.
                outbox.mark_maybe_sent(session, carer.id)
            elif turn.outbox_clear and self.s.outbox.send_unwritten(session, carer, unit):
                unit.run_after(session)  # the reply has left: its bookkeeping goes in with the turn's record
            self._finish(session, msg)
        return True

    def _finish(self, session: Session, msg: Message) -> None:
        msg.state, msg.processed_at, msg.next_attempt_at = "done", self.s.clock.now(), None
        conv = session.get(Conversation, msg.conversation_id)
        if conv is not None:
            conv.last_message_at = msg.created_at
        unit = self._thread.unit
        # The first reply is claimed in this same transaction, so it leaves without another round trip.
        first = self.s.outbox.claim_first(session, unit)
        session.commit()
        # Replies leave at once from this thread: no polling interval on the reply path.
        if first is not None:
            self.s.outbox.send_claimed(session, first, unit)
        self.s.outbox.send_for_carer(msg.carer_id)
        if unit.after:  # no reply was sent (or it failed): the work is still to do
            unit.run_after(session)
            session.commit()

    def _wait_for_rasa(self, message_id: int, reason: str) -> None:
        """Keep the message; try again with backoff; one kind apology if the wait grows long."""
        now = self.s.clock.now()
        with self.s.db.session() as session:
            msg = session.get_one(Message, message_id)
            assert msg.carer_id is not None  # an inbound message is its carer's
            carer = session.get_one(Carer, msg.carer_id)
            msg.state = MessageState.PENDING
            msg.next_attempt_at = now + timedelta(seconds=min(30.0, 2.0 ** min(msg.attempts, 5)))
            waited = (now - as_utc(msg.created_at)).total_seconds()
            log.warning("rasa unavailable msg=%s attempt=%s reason=%s", msg.id, msg.attempts, reason)
            if waited >= self.s.settings.apology_after_seconds and carer.apology_sent_at is None:
                carer.apology_sent_at = now
                conv = session.get(Conversation, msg.conversation_id)
                self._say(session, carer, conv, msg, "apology_delay", kind="apology")
                apologise = True
            else:
                apologise = False
            carer_id = carer.id
        if apologise:
            self.s.outbox.send_for_carer(carer_id)

    # -- what Rasa said --------------------------------------------------------------------------

    def apply_replies(self, session: Session, carer: Carer, conv: Conversation, msg: Message | None,
                      replies: list[RasaMessage], kind: str = "reply") -> None:
        """Turn Rasa's messages into outbox rows and records, in the order Rasa gave them."""
        for item in replies:
            custom = item.get("custom")
            if isinstance(custom, dict) and custom.get("event"):
                handler = self.event_handlers.get(custom["event"])
                follower = self.after_reply.get(custom["event"])
                if handler is None and follower is None:
                    log.info("unknown rasa event %s ignored", custom["event"])
                    continue
                now = self.s.clock.now()
                if handler is not None:
                    handler(session, now, carer, conv, msg, custom)
                if follower is not None:
                    self._later(session, partial(follower, now=now, carer=carer, conv=conv, msg=msg, ev=custom))
            elif isinstance(custom, dict) and custom.get("say"):
                body = self.s.catalogue.render(custom["say"], carer.language, custom.get("vars"),
                                               custom.get("choices"))
                # On WhatsApp, in the window, the same choices as buttons; body stays the numbered text.
                buttons = whatsapp_buttons.for_reply(session, self.s, carer, msg, custom)
                self._enqueue(session, carer, conv, msg, body, kind, **buttons)
            elif item.get("text"):
                self._enqueue(session, carer, conv, msg, item["text"], kind)

    def _say(self, session: Session, carer: Carer, conv: Conversation | None, msg: Message | None, key: str,
             kind: str = "reply", **variables: object) -> None:
        self._enqueue(session, carer, conv, msg, self.s.catalogue.text(key, carer.language, **variables), kind)

    def _enqueue(self, session: Session, carer: Carer, conv: Conversation | None, msg: Message | None, body: str,
                 kind: str, content_sid: str | None = None, content_variables: dict[str, str] | None = None) -> None:
        # A reply goes back on the channel the carer used for that message.
        message = outbox.enqueue(session, self.s.clock.now(), carer=carer, conversation=conv, body=body, kind=kind,
                       in_reply_to=msg.id if msg is not None else None,
                       channel=msg.channel if msg is not None else None,
                                 content_sid=content_sid, content_variables=content_variables, flush=False)
        unit = getattr(self._thread, "unit", None)
        if unit is not None:
            unit.queued(message)

    def _opt_out(self, session: Session, carer: Carer, conv: Conversation, msg: Message) -> None:
        now = self.s.clock.now()
        if carer.channel == "whatsapp" and not carer.opted_out:
            # Twilio confirms opt-outs on SMS itself; on WhatsApp the product must.
            self._say(session, carer, conv, msg, "opted_out", kind="opt_out")
        carer.opted_out, carer.opted_out_at = True, now
        log.info("carer opted out carer=%s", carer.public_id[:8])

    def _crisis(self, session: Session, carer: Carer, conv: Conversation, msg: Message, concern: Concern) -> None:
        """A risk disclosed or danger now: the lines for that risk, an urgent handoff, the duty alert."""
        now = self.s.clock.now()
        if concern.tier >= Tier.DANGER_NOW:
            self._say(session, carer, conv, msg, "crisis.danger_now", kind="crisis")
        key = next((f"crisis.{f}" for f in concern.flags if self.s.catalogue.has(f"crisis.{f}", carer.language)),
                   "crisis.general")
        if concern.tier < Tier.DANGER_NOW or key != "crisis.medical_emergency":
            self._say(session, carer, conv, msg, key, kind="crisis")
        self._say(session, carer, conv, msg, "crisis_follow_up", kind="crisis")
        self._say_if_closed(session, carer, conv, msg, now)
        conv.state = ConversationState.PERSON  # the assessment pauses until a worker hands it back
        handoff = handoffs.open_handoff(session, now, carer=carer, conversation=conv, reason="safeguarding",
                                        flags=concern.flags, trigger_message_id=msg.id)
        handoffs.alert_duty(session, now, self.s.settings, self.s.catalogue, handoff)
        log.warning("safeguarding concern carer=%s tier=%s flags=%s handoff=%s", carer.public_id[:8],
                    concern.tier.name.lower(), ",".join(concern.flags), handoff.id)

    def _say_if_closed(self, session: Session, carer: Carer, conv: Conversation, msg: Message,
                       now: datetime) -> None:
        if working_days.duty_team_open(now, self.s.settings):
            return
        phone = self.s.settings.emergency_duty_phone
        if phone:
            self._say(session, carer, conv, msg, "crisis_out_of_hours", kind="crisis", phone=phone)
        else:
            self._say(session, carer, conv, msg, "crisis_out_of_hours_no_phone", kind="crisis")

    def _safety_check(self, session: Session, carer: Carer, conv: Conversation, msg: Message, concern: Concern) -> None:
        """Strain or an unclear phrase: ask kindly whether they are safe now, and ask a person to check in."""
        self._say(session, carer, conv, msg, "safety_check", kind="crisis")
        conv.state = ConversationState.SAFETY_CHECK
        handoffs.open_handoff(session, self.s.clock.now(), carer=carer, conversation=conv, reason="safety_check",
                              flags=concern.flags, trigger_message_id=msg.id)
        log.info("safety check asked carer=%s flags=%s", carer.public_id[:8], ",".join(concern.flags))

    def _safety_answer(self, session: Session, carer: Carer, conv: Conversation, msg: Message, text: str) -> str | None:
        """The answer to "are you safe right now?": not safe is a crisis; safe carries on with the questions.

        Returns the text to send on to the dialogue model, or None when nothing more is to be done."""
        words = " ".join(re.sub(r"[^a-z ]+", " ", text.lower().replace("'", "")).split())
        if NOT_SAFE.search(words):
            self._crisis(session, carer, conv, msg, Concern(Tier.RISK_DISCLOSED, ("not_safe",)))
            return None
        conv.state = ConversationState.BOT
        if SAFE.search(words):
            # Part of the safety exchange, like the question: the dialogue's own reply still follows, once.
            self._say(session, carer, conv, msg, "safety_check_safe", kind="crisis")
            return "/repeat"  # the question they were on, asked again
        return text  # they moved on: their message is an answer or a command like any other

    def _acknowledge_waiting(self, session: Session, carer: Carer, conv: Conversation, msg: Message) -> None:
        """While a person has the case: a short word that someone has their messages, at most once an interval."""
        now = self.s.clock.now()
        since = now - timedelta(minutes=self.s.settings.safeguarding_ack_minutes)
        recent = session.scalar(select(Message.id).where(
            Message.carer_id == carer.id, Message.direction == "out", Message.kind.in_(("holding", "crisis")),
            Message.created_at >= since).limit(1))
        if recent is None:
            self._say(session, carer, conv, msg, "holding_ack", kind="holding")

    # -- Rasa's events ---------------------------------------------------------------------------

    def _on_answer(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
                   ev: RasaEvent) -> None:
        question = str(ev.get("question") or "")[:64]
        status = ev.get("status") or "answered"
        if status == "changed":
            for earlier in session.scalars(select(Answer).where(Answer.conversation_id == conv.id,
                                                                Answer.question_id == question)):
                earlier.changed = True
        session.add(Answer(conversation_id=conv.id, question_id=question, value=ev.get("value"),
                           raw=ev.get("raw"), status=status, changed=False, answered_at=now,
                           message_id=msg.id if msg is not None else None))
        if conv.assessment_status == AssessmentStatus.NOT_STARTED:
            conv.assessment_status = AssessmentStatus.IN_PROGRESS

    def _on_handoff(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
                    ev: RasaEvent) -> None:
        reason = ev.get("reason") or "asked_for_person"
        if reason == "safeguarding" and msg is not None:
            # The NLU's second net, on a message the screen passed: the two disagree, so it is the uncertain
            # tier (are you safe? and a person soon), not a crisis reply to an everyday answer.
            self._safety_check(session, carer, conv, msg, Concern(Tier.STRAIN, tuple(ev.get("flags") or ("nlu",))))
            return
        handoffs.open_handoff(session, now, carer=carer, conversation=conv, reason=reason,
                              trigger_message_id=msg.id if msg is not None else None)

    def _on_progress(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
                     ev: RasaEvent) -> None:
        conv.current_section = str(ev.get("section") or "")[:64] or conv.current_section
        conv.progress_done = int(ev.get("done") or 0)
        conv.progress_total = int(ev.get("total") or 0)
        if conv.assessment_status == AssessmentStatus.NOT_STARTED:
            conv.assessment_status = AssessmentStatus.IN_PROGRESS

    def _on_completed(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
                      ev: RasaEvent) -> None:
        conv.assessment_status, conv.completed_at = AssessmentStatus.COMPLETED, now
        handoffs.open_handoff(session, now, carer=carer, conversation=conv, reason="completed")

    def _on_opt_out(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
                    ev: RasaEvent) -> None:
        confirm = ev.get("confirm")
        if confirm and not carer.opted_out and self.s.catalogue.has(confirm, carer.language):
            # Said in their own words, not a keyword: no carrier confirms it on SMS, so we do, once.
            self._say(session, carer, conv, msg, confirm, kind="opt_out")
        carer.opted_out, carer.opted_out_at = True, now

    def _on_life_event(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
                       ev: RasaEvent) -> None:
        """The person cared for has died: the assessment ends, so no reminder or notice asks about it again."""
        if ev.get("kind") == "bereavement":
            conv.assessment_status = AssessmentStatus.ENDED

    def _on_opt_in(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
                   ev: RasaEvent) -> None:
        carer.opted_out, carer.opted_out_at = False, None

    def _on_copy(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
                 ev: RasaEvent) -> None:
        """The short copy of what the carer said, built from the answers table (bot.duty.assessment)."""
        from bot.duty.assessment import assessment_record, short_copy

        session.flush()
        body = short_copy(assessment_record(session, conv.id), self.s.catalogue, carer.language)
        self._enqueue(session, carer, conv, msg, body, "reply")

    def _on_contact_window(self, session: Session, now: datetime, carer: Carer, conv: Conversation, msg: Message | None,
                           ev: RasaEvent) -> None:
        carer.contact_window = str(ev.get("window") or "")[:200] or None
