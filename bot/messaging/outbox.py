"""The one way out: bot replies, reminders, worker replies and broadcasts all leave from here."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable, Protocol

from sqlalchemy import Row, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from bot.adapters.chat_alert import ChatAlert
from bot.adapters.mailer import AlertFailed, Mailer
from bot.adapters.twilio_sender import MessageSender, Outgoing, SendFailed
from bot.catalogue import segments
from bot.config import Settings
from bot.timing.clock import Clock, as_utc
from bot.db import Database, has_written
from bot.models import Carer, Conversation, Direction, Message, MessageKind, MessageState, StatusEvent, UNSENT

log = logging.getLogger("carertext.outbox")

# Twilio's statuses in the order a message moves through them; a callback never moves one back.
STATUS_RANK = {
    "accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3,
    "delivered": 4, "undelivered": 4, "failed": 4, "canceled": 4, "read": 5,
}
# Every MessageStatus Twilio documents; anything else in a callback is refused, not stored.
TWILIO_STATUSES = frozenset(STATUS_RANK) | {"receiving", "received", "partially_delivered"}
WHATSAPP_WINDOW = timedelta(hours=24)
OPTED_OUT = 21610
OUTSIDE_WINDOW = 63016
EMAIL = "email"  # a staff alert's channel: sent by the mailer, never to a carer
CHAT = "chat"  # a staff alert to the duty team's chat webhook (DUTY_WEBHOOK_URL), never to a carer
STAFF_CHANNELS = (EMAIL, CHAT)


# Claim a due message: pending and due, or sending by a sender that died (its lease has run out).
# Built once: on the reply path, building a statement costs more than running it.
_CLAIM_DUE = (
    update(Message)
    .where(
        Message.id == bindparam("p_id"),
        or_(
            and_(Message.state == MessageState.PENDING,
                 or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= bindparam("p_now"))),
            and_(Message.state == MessageState.SENDING, Message.next_attempt_at <= bindparam("p_now")),
        ),
    )
    .values(state=MessageState.SENDING, attempts=Message.attempts + 1, next_attempt_at=bindparam("p_until"))
)
CLAIM = _CLAIM_DUE.returning(Message).execution_options(synchronize_session=False, populate_existing=True)
# A reply just queued in this transaction: claimed only if nothing of its carer's is waiting ahead of it.
# Run on the connection, without RETURNING: the row is already in hand, and the ORM's way costs twice as much.
_ahead = aliased(Message)
CLAIM_IF_NEXT = _CLAIM_DUE.where(~exists().where(
    _ahead.carer_id == bindparam("p_carer_id"), _ahead.direction == Direction.OUT,
    _ahead.state.in_(UNSENT), _ahead.id < bindparam("p_id")))


# Whether anything waits to go to the carer p_carer_id: a turn's first reply may leave before its record
# (Outbox.send_unwritten) only when it overtakes nothing.
_waiting = aliased(Message)
OUTBOX_BUSY = exists().where(_waiting.carer_id == bindparam("p_carer_id"), _waiting.direction == Direction.OUT,
                             _waiting.state.in_(UNSENT)).label("outbox_busy")


# A send's lease is twice LEASE_SECONDS (60 s by default): a sender that died is taken over after it.
def sending_lease(settings: Settings) -> timedelta:
    """How long a claimed message belongs to the sender that claimed it."""
    return timedelta(seconds=2 * settings.lease_seconds)


def enqueue(session: Session, now: datetime, *, carer: Carer | None, body: str | None, kind: str,
            conversation: Conversation | None = None, in_reply_to: int | None = None,
            to_address: str | None = None, channel: str | None = None, content_sid: str | None = None,
            content_variables: dict[str, str] | None = None, broadcast_id: int | None = None,
            not_before: datetime | None = None, flush: bool = True) -> Message:
    """Put a message in the outbox; it is sent after the caller commits.

    flush=False leaves the INSERT to the next flush, so a turn's several replies go in one round trip;
    the message has no id until then."""
    message = Message(
        carer_id=carer.id if carer else None,
        conversation_id=conversation.id if conversation else None,
        direction=Direction.OUT,
        channel=channel or (carer.channel if carer else "sms"),
        kind=kind,
        body=body,
        to_address=to_address,
        content_sid=content_sid,
        content_variables=content_variables,
        num_segments=segments(body) if body else None,
        in_reply_to_id=in_reply_to,
        broadcast_id=broadcast_id,
        state=MessageState.PENDING,
        created_at=now,
        next_attempt_at=not_before,
    )
    session.add(message)
    if flush:
        session.flush()
    return message


@dataclass
class Replies:
    """One unit of work of a carer's turn: the first reply it queued, and work to do once that has left."""

    carer_id: int | None  # whose first reply this unit of work may claim (claim_first); None: none is
    first: Message | None = None
    # Bookkeeping that may wait until the reply has left (reminders); None once it has run.
    after: list[Callable[[Session], None]] | None = field(default_factory=list)

    def queued(self, message: Message) -> None:
        """Note a message queued in this unit of work: the carer's first is the one claim_first may take."""
        if self.first is None and self.carer_id is not None and message.carer_id == self.carer_id:
            self.first = message

    def later(self, session: Session, work: Callable[[Session], None]) -> None:
        """Run work(session) once this unit of work's reply has left; now, if it has already."""
        if self.after is None:
            work(session)
        else:
            self.after.append(work)

    def run_after(self, session: Session) -> None:
        """Run the deferred work in the caller's transaction; a failure undoes only that work."""
        pending, self.after = self.after, None
        if not pending:
            return
        try:
            with session.begin_nested():
                for work in pending:
                    work(session)
        except Exception:  # bookkeeping (reminders) must never undo or repeat a reply already sent
            log.exception("work after a reply failed")


class Gate(Protocol):
    """Holds some messages back before they are claimed and sent (a broadcast's pace)."""

    def busy(self, kind: str, channel: str) -> bool:
        """Whether a message of this kind and channel would only be put back now: it is left unclaimed."""

    def free_at(self) -> datetime | None:
        """When to look again for a message busy() held, if one is held now."""

    def __call__(self, session: Session, message: Message) -> datetime | None:
        """Just before a send: a moment returned puts the message back until then."""


# What to hand Twilio for free text to a closed WhatsApp window: (outgoing, None) or (None, why not).
OutsideWindow = Callable[[Session, Message, Carer], tuple[Outgoing | None, str | None]]


def window_open(carer: Carer | None, now: datetime) -> bool:
    """Whether WhatsApp's 24-hour window since the carer's last message is still open."""
    last = as_utc(carer.last_inbound_at) if carer is not None else None
    return last is not None and now - last <= WHATSAPP_WINDOW


def approved_templates(settings: Settings) -> set[str]:
    """The Content sids WhatsApp approved (reminders, review, broadcasts): the only ones sent outside the window."""
    return {sid for sid in (settings.whatsapp_reminder_content_sid, settings.whatsapp_review_content_sid,
                            settings.whatsapp_broadcast_content_sid) if sid}


def mark_maybe_sent(session: Session, carer_id: int) -> None:
    """The replies queued in this session may have left before a crash: each is looked for at Twilio first."""
    for message in session.new:
        if isinstance(message, Message) and message.direction == Direction.OUT and message.carer_id == carer_id:
            message.attempts, message.error_note = 1, None  # the next claim makes it attempt 2: _already_sent


def backoff(attempt: int, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter, so many retries do not arrive together."""
    return random.uniform(base, min(cap, base * 2 ** attempt))


def record_status(session: Session, now: datetime, sid: str, status: str, error_code: int | None) -> bool:
    """Record a delivery callback; returns whether the message's status moved forward."""
    session.add(StatusEvent(twilio_sid=sid, status=status, error_code=error_code, received_at=now))
    message = session.scalars(select(Message).where(Message.twilio_sid == sid)).first()
    if message is None:
        return False  # applied when the send result is stored (the callback can beat it)
    return _advance(message, status, error_code, now)


def _advance(message: Message, status: str, error_code: int | None, now: datetime) -> bool:
    if STATUS_RANK.get(status, -1) <= STATUS_RANK.get(message.delivery_status or "", -1):
        return False
    message.delivery_status = status
    message.status_at = now
    if error_code:
        message.error_code = error_code
    return True


def _same_message(found_body: str, outgoing: Outgoing) -> bool:
    """Whether a message Twilio holds is this one: the same text, or for a Content (template or
    buttons), Twilio's rendering of it, which holds every variable we filled in."""
    if not outgoing.content_sid:
        return found_body == outgoing.body
    values = [str(v) for v in (outgoing.content_variables or {}).values() if str(v).strip()]
    return bool(values) and all(v in found_body for v in values)


class Outbox:
    """Claims due outbound messages and hands them to Twilio, with retries."""

    def __init__(self, db: Database, sender: MessageSender, settings: Settings, clock: Clock, *,
                 mailer: Mailer | None = None, chat: ChatAlert | None = None, gates: Iterable[Gate] = (),
                 on_settled: Iterable[Callable[[Session, Message], None]] = (),
                 on_outside_window: OutsideWindow | None = None):
        self.db = db
        self.sender = sender
        self.settings = settings
        self.clock = clock
        # Staff e-mail (bot/adapters/mailer.py), set when SMTP_URL is; the duty chat when DUTY_WEBHOOK_URL is.
        self.mailer = mailer
        self.chat = chat
        # Asked before a claim and before a send. A busy gate leaves the message unclaimed: claiming it only
        # to put it back cost two row writes a message a pass.
        self.gates = list(gates)
        # Called as hook(session, message) once a message is settled: sent, skipped or failed for good.
        self.on_settled = list(on_settled)
        # Free text to a closed WhatsApp window: another way to send it, or why not (None: not sent).
        self.on_outside_window = on_outside_window

    def due(self, limit: int = 100) -> list[Row[int, str, str]]:
        """The next message of each carer that is due, oldest first, so one carer's replies keep order: rows
        (id, kind, channel)."""
        now = self.clock.now()
        with self.db.session() as session:
            blocked = (
                select(Message.carer_id)
                .where(Message.direction == Direction.OUT, Message.state == MessageState.SENDING,
                       Message.carer_id.is_not(None), Message.next_attempt_at > now)
            )
            heads = (
                select(func.min(Message.id))
                .where(Message.direction == Direction.OUT, Message.state.in_(UNSENT))
                .group_by(func.coalesce(Message.carer_id, -Message.id))
            )
            rows = session.execute(
                select(Message.id, Message.kind, Message.channel)
                .where(
                    Message.id.in_(heads),
                    or_(Message.carer_id.is_(None), Message.carer_id.not_in(blocked)),
                    or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
                )
                .order_by(Message.id)
                .limit(limit)
            ).all()
        return list(rows)

    def waits_until(self) -> datetime | None:
        """When to look again for a sender a gate holds, if one is held now."""
        moments = [m for m in (gate.free_at() for gate in self.gates) if m is not None]
        return min(moments, default=None)

    def send_due(self, limit: int = 100, interrupted: Callable[[], bool] | None = None,
                 share: tuple[int, int] = (0, 1)) -> int:
        """Send what is due now; returns how many were handed to Twilio.

        interrupted() is asked between sends: a carer's new message must not wait behind a broadcast batch.
        share=(k, n): this is worker k of n, and takes every n-th message from the k-th first."""
        due = self.due(limit)
        k, n = share
        # Workers reading one list in one order raced for every message, n-1 losing each claim: 8 threads
        # sent slower than 2. Each takes its own share first (each message is one carer's next, so any split
        # keeps a carer's order), then helps with the rest until it meets one another worker has taken: a
        # busy worker's share is not left waiting.
        mine, rest = due[k::n], [row for j, row in enumerate(due) if j % n != k]
        sent = 0
        for position, row in enumerate(mine + rest):
            if any(gate.busy(row.kind, row.channel) for gate in self.gates):
                continue
            took = self._send_if_claimed(row.id)
            if took is None and position >= len(mine):
                break
            sent += took or 0
            if interrupted is not None and interrupted():
                break
        return sent

    def send_for_carer(self, carer_id: int | None) -> int:
        """Send this carer's due messages in order, stopping at one that must wait."""
        sent, previous = 0, None
        while carer_id is not None:
            now = self.clock.now()
            with self.db.session() as session:
                head = session.scalars(
                    select(Message)
                    .where(Message.carer_id == carer_id, Message.direction == Direction.OUT,
                           Message.state.in_(UNSENT))
                    .order_by(Message.id).limit(1)
                ).first()
            if head is None or head.id == previous:
                break
            if head.next_attempt_at is not None and as_utc(head.next_attempt_at) > now:
                break
            previous = head.id
            sent += self.send_one(head.id)
        return sent

    def _claim(self, session: Session, message_id: int) -> Message | None:
        """Take a due message for this sender, in the caller's transaction; None if another has it."""
        now = self.clock.now()
        return session.scalars(CLAIM, {"p_id": message_id, "p_now": now,
                                       "p_until": now + sending_lease(self.settings)}).first()

    def claim_first(self, session: Session, replies: Replies) -> Message | None:
        """Claim the first message queued in this transaction for the carer of replies, if next in line."""
        first, replies.first = replies.first, None
        if first is None:
            return None
        session.flush()  # the turn's replies, inserted together
        now = self.clock.now()
        until = now + sending_lease(self.settings)
        claimed = session.connection().execute(CLAIM_IF_NEXT, {"p_id": first.id, "p_now": now, "p_until": until,
                                                               "p_carer_id": first.carer_id}).rowcount
        if claimed != 1:
            return None
        written = (("state", MessageState.SENDING), ("attempts", first.attempts + 1), ("next_attempt_at", until))
        for name, value in written:
            set_committed_value(first, name, value)  # what the row now holds, without another write
        return first

    def send_claimed(self, session: Session, message: Message, replies: Replies | None = None) -> int:
        """Send a message already claimed and committed in this session; 1 if Twilio took it.

        replies: the turn it is the first reply of, whose deferred work is written with its result."""
        carer = session.get(Carer, message.carer_id) if message.carer_id else None
        return self._send_claimed(session, message, carer, replies)

    def send_unwritten(self, session: Session, carer: Carer, replies: Replies) -> bool:
        """Send the turn's first reply before anything of the turn is written; True if Twilio took it.

        Only while nothing waits ahead of it (the caller knows) and nothing has been written yet, so no
        lock is held over the call. A crash between the send and the turn's commit leaves the carer's
        message to be retried: Rasa gives the same replies again, and each is looked for at Twilio before
        it is sent (mark_maybe_sent), so none goes twice."""
        first = replies.first
        if first is None or first.channel in STAFF_CHANNELS or has_written(session):
            return False
        if first.channel == "whatsapp" and not window_open(carer, self.clock.now()):
            return False  # _outgoing would rewrite it for a closed window: the usual path does that
        outgoing, skip = self._outgoing(session, first, carer)
        if skip is not None or any(gate(session, first) is not None for gate in self.gates):
            return False
        assert outgoing is not None  # either a message to send or a reason not to
        replies.first = None
        first.state, first.attempts = MessageState.SENDING, 1
        try:
            result = self.sender.send(outgoing, self.settings.status_callback_url)
        except SendFailed as exc:
            self._failed(session, first, exc)  # written with the turn, due again after its backoff
            return False
        self._mark_sent(session, first, result.sid, result.num_segments, result.status)
        self._settled(session, first)
        return True

    def send_one(self, message_id: int) -> int:
        """Claim one message and send it; 1 if Twilio took it."""
        return self._send_if_claimed(message_id) or 0

    def _send_if_claimed(self, message_id: int) -> int | None:
        """As send_one, but None when another worker has the message (or it is no longer due)."""
        with self.db.session() as session:
            message = self._claim(session, message_id)
            if message is None:
                return None
            carer = session.get(Carer, message.carer_id) if message.carer_id else None
            return self._send_claimed(session, message, carer)

    def _send_claimed(self, session: Session, message: Message, carer: Carer | None,
                      replies: Replies | None = None) -> int:
        if message.channel in STAFF_CHANNELS:
            return self._send_to_staff(session, message)
        outgoing, skip = self._outgoing(session, message, carer)
        if skip:
            message.state, message.error_note = MessageState.SKIPPED, skip
            message.processed_at = self.clock.now()
            log.info("outbound skipped msg=%s reason=%s", message.id, skip)
            self._settled(session, message)
            session.commit()
            return 0
        assert outgoing is not None  # either a message to send or a reason not to
        for gate in self.gates:
            later = gate(session, message)
            if later is not None:  # not an attempt: put it back as it was, due at that moment
                message.state, message.next_attempt_at = MessageState.PENDING, later
                message.attempts -= 1
                session.commit()
                return 0
        # After a 5xx, or a sender that died mid-send (no note), Twilio may have it already.
        if message.attempts > 1 and message.error_note in ("ambiguous", None):
            already = self._already_sent(session, message, outgoing)
            if already:
                self._mark_sent(session, message, already, None)
                self._settled(session, message)
                session.commit()
                return 1
        session.commit()  # the claim is everyone's to see before the slow call; no transaction held over it
        try:
            result = self.sender.send(outgoing, self.settings.status_callback_url)
        except SendFailed as exc:
            self._failed(session, message, exc)
            session.commit()
            return 0
        # Read just after the claim, and the claim keeps other senders off it: no need to re-read.
        self._mark_sent(session, message, result.sid, result.num_segments, result.status)
        self._settled(session, message)
        if replies is not None:
            replies.run_after(session)  # the turn's bookkeeping: no transaction of its own
        session.commit()
        return 1

    def _send_to_staff(self, session: Session, message: Message) -> int:
        """A duty alert by e-mail or chat rides the same claims and retries; the first line is the subject."""
        subject, _, text = (message.body or "").partition("\n")
        session.commit()
        try:
            if message.channel == CHAT:
                if self.chat is None:
                    raise AlertFailed("no DUTY_WEBHOOK_URL set", retryable=False)
                self.chat.post(subject.strip(), text.strip())
            else:
                if self.mailer is None:
                    raise AlertFailed("no SMTP_URL set", retryable=False)
                assert message.to_address is not None  # alert_duty queues each e-mail with its address
                self.mailer.send(message.to_address, subject.strip(), text.strip())
        except AlertFailed as exc:
            self._retry_or_fail(session, message, exc.retryable, "retry", str(exc)[:200])
            log.warning("%s alert failed msg=%s reason=%s next=%s", message.channel, message.id, exc, message.state)
            session.commit()
            return 0
        message.state, message.processed_at, message.next_attempt_at = MessageState.SENT, self.clock.now(), None
        message.delivery_status = "sent"
        self._settled(session, message)
        session.commit()
        log.info("%s alert sent msg=%s kind=%s", message.channel, message.id, message.kind)
        return 1

    def _retry_or_fail(self, session: Session, message: Message, retryable: bool, retry_note: str,
                       fail_note: str) -> None:
        """Due again after a backoff with jitter while attempts remain; else failed for good, and settled."""
        now = self.clock.now()
        message.processed_at = now
        if retryable and message.attempts < self.settings.outbox_max_attempts:
            message.state, message.error_note = MessageState.PENDING, retry_note
            message.next_attempt_at = now + timedelta(seconds=backoff(message.attempts))
        else:
            message.state, message.error_note = MessageState.FAILED, fail_note
            self._settled(session, message)

    def _settled(self, session: Session, message: Message) -> None:
        for hook in self.on_settled:
            hook(session, message)

    def _outgoing(self, session: Session, message: Message, carer: Carer | None) -> tuple[Outgoing | None, str | None]:
        """What to hand Twilio, or why not to send at all."""
        if carer is not None and carer.phone is None:
            return None, "erased"
        # The one message an opted-out carer still gets: the confirmation of their STOP.
        if carer is not None and carer.opted_out and message.kind != MessageKind.OPT_OUT:
            return None, "opted_out"
        whatsapp = message.channel == "whatsapp"
        if message.to_address:
            to = message.to_address
        else:
            # Without an address of its own a message is to its carer, and an erased one was skipped above.
            assert carer is not None and carer.phone is not None
            to = f"whatsapp:{carer.phone}" if whatsapp else carer.phone
        from_ = self.settings.twilio_whatsapp_from if whatsapp else self.settings.twilio_sms_from
        # Free text and session Content (choice buttons) need WhatsApp's 24-hour window; approved templates do not.
        if whatsapp and carer is not None and message.content_sid not in approved_templates(self.settings):
            # Twilio's 63016 outranks our clock: its window may have closed before ours says so.
            if not window_open(carer, self.clock.now()) or message.error_note == "outside_window":
                message.content_sid = message.content_variables = None  # buttons go on as the numbered text
                if self.on_outside_window is not None:
                    return self.on_outside_window(session, message, carer)
                return None, "whatsapp_window_closed"
        return Outgoing(
            to=to, from_=from_, body=message.body, content_sid=message.content_sid,
            content_variables=message.content_variables,
            messaging_service_sid=self.settings.twilio_messaging_service_sid or None,
        ), None

    def _already_sent(self, session: Session, message: Message, outgoing: Outgoing) -> str | None:
        """After an ambiguous failure, look at Twilio before sending again."""
        since = as_utc(message.created_at)
        if message.in_reply_to_id is not None:  # a reply written again after a crash: since its turn began
            asked = session.get(Message, message.in_reply_to_id)
            since = min(since, as_utc(asked.created_at)) if asked is not None else since
        try:
            since_iso = (since - timedelta(minutes=1)).isoformat()
            for found in self.sender.recent_to(outgoing.to, since_iso):
                if _same_message(found.get("body") or "", outgoing):
                    return found["sid"]
        except SendFailed:
            pass  # cannot check: the risk of a double send is recorded on the message
        return None

    def _mark_sent(self, session: Session, message: Message, sid: str, num_segments: int | None,
                   status: str = "queued") -> None:
        now = self.clock.now()
        message.state = MessageState.SENT
        message.twilio_sid = sid
        message.processed_at = now
        message.next_attempt_at = None
        if num_segments:
            message.num_segments = num_segments
        _advance(message, status or "queued", None, now)
        for ev in session.scalars(select(StatusEvent).where(StatusEvent.twilio_sid == sid).order_by(StatusEvent.id)):
            _advance(message, ev.status, ev.error_code, now)
        log.info("outbound sent msg=%s kind=%s", message.id, message.kind)

    def _failed(self, session: Session, message: Message, exc: SendFailed) -> None:
        now = self.clock.now()
        message.error_code = exc.code
        if exc.code == OPTED_OUT:
            carer = session.get(Carer, message.carer_id) if message.carer_id else None
            if carer is not None:
                carer.opted_out, carer.opted_out_at = True, now
            self._retry_or_fail(session, message, False, "", "opted_out")
        elif exc.code == OUTSIDE_WINDOW and self.on_outside_window is not None:
            message.state, message.error_note = MessageState.PENDING, "outside_window"
            message.next_attempt_at, message.processed_at = now, now
        else:
            self._retry_or_fail(session, message, exc.retryable, "ambiguous" if exc.ambiguous else "retry",
                                f"twilio {exc.status}")
        log.warning("outbound failed msg=%s code=%s status=%s next=%s",
                    message.id, exc.code, exc.status, message.state)
