"""The durable inbox: a carer's message is stored before Twilio gets its answer."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Mapping, Protocol, cast

from sqlalchemy import Table, and_, bindparam, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from bot.messaging import outbox, ratelimit
from bot.parts import Core
from bot.timing.clock import Clock, as_utc
from bot.db import insert_now
from bot.models import Carer, Conversation, ConversationState, Direction, Message, MessageKind, MessageState, UNHANDLED
from bot.messaging.whatsapp_buttons import tapped_choice

log = logging.getLogger("carertext.inbox")
SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
MAX_BODY = 1600 * 4  # Twilio caps inbound at 1,600; keep a margin, never a crash on more.


@dataclass(frozen=True)
class IncomingMessage:
    """A message as Twilio delivers it, channel-neutral."""

    message_sid: str
    account_sid: str
    from_address: str
    to_address: str
    body: str
    num_media: int = 0
    profile_name: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def channel(self) -> str:
        return "whatsapp" if self.from_address.startswith("whatsapp:") else "sms"

    @property
    def phone(self) -> str:
        return self.from_address.removeprefix("whatsapp:")

    @classmethod
    def from_twilio_form(cls, form: Mapping[str, str]) -> "IncomingMessage":
        """Decode Twilio's incoming-message form; unknown fields are kept aside, not refused."""
        try:
            num_media = int(form.get("NumMedia") or 0)
        except ValueError:
            num_media = 0
        # A tapped WhatsApp button is kept as the numbered line the carer saw, which Rasa reads as the choice.
        body = clean_text(tapped_choice(form) or form.get("Body") or "")[:MAX_BODY]
        return cls(
            message_sid=_field(form.get("MessageSid") or form.get("SmsMessageSid")),
            account_sid=_field(form.get("AccountSid")),
            from_address=_field(form.get("From")),
            to_address=_field(form.get("To")),
            body=body,
            num_media=max(num_media, 0),
            profile_name=_field(form.get("ProfileName")) or None,
        )


def _field(value: str | None) -> str:
    """A short form field made safe to store: no control characters, no surrounding spaces."""
    return clean_text(value or "").strip()[:200]


def looks_like_sid(sid: str) -> bool:
    """Twilio's ids are two letters then 32 hex digits; anything else is not from Twilio."""
    return SID.fullmatch(sid) is not None


def clean_text(text: str) -> str:
    """Drop control characters (keep new lines and tabs) and lone surrogates, which databases refuse."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127))


# Built once: on the webhook's path, building a statement costs more than running it. The carer row is
# locked (PostgreSQL; SQLite serialises writers anyway): two messages of one number take turns from here,
# which is what their flood bucket, read in the same query, needs.
CARER_AND_CONVERSATION = (
    select(Carer, Conversation, ratelimit.RateBucket)
    .outerjoin(Conversation, and_(Conversation.carer_id == Carer.id, Conversation.state != ConversationState.CLOSED))
    .outerjoin(ratelimit.RateBucket, ratelimit.RateBucket.carer_id == Carer.id)
    .where(Carer.phone == bindparam("phone"))
    .order_by(Conversation.id.desc())
    .limit(1)
    .with_for_update(of=Carer)
)


@dataclass
class Sender:
    """Whose number a message came from: the carer, their open conversation, their flood bucket."""

    carer: Carer
    conversation: Conversation
    bucket: ratelimit.RateBucket | None
    new: bool  # made by this unit of work


def sender(session: Session, phone: str, channel: str, clock: Clock) -> Sender:
    """The carer with this number, their open conversation and flood bucket, in one query; made on first contact."""
    row = session.execute(CARER_AND_CONVERSATION, {"phone": phone}).first()
    if row is not None and row[1] is not None:
        return Sender(*row, new=False)
    carer, bucket, new = (row[0], row[2], False) if row is not None else (None, None, False)
    if carer is None:
        # First contact in one statement, no savepoint: a twin request that made the carer first wins.
        carer = Carer(phone=phone, channel=channel, created_at=clock.now())
        new = insert_now(session, carer, unless_taken="phone")
        if not new:  # a twin request made the carer a moment ago: theirs, as if it had been here
            row = session.execute(CARER_AND_CONVERSATION, {"phone": phone}).one()
            if row[1] is not None:
                return Sender(*row, new=False)
            carer, bucket = row[0], row[2]
    if new:  # nobody else can see this carer yet: their first conversation needs no savepoint
        conv = Conversation(carer_id=carer.id, started_at=clock.now())
        insert_now(session, conv)
        return Sender(carer, conv, None, new=True)
    try:
        with session.begin_nested():
            conv = Conversation(carer_id=carer.id, started_at=clock.now())
            session.add(conv)
    except IntegrityError:  # a twin request started it a moment ago
        conv = _open_conversation(session, carer)
    return Sender(carer, conv, bucket, new=False)


def carer_and_conversation(session: Session, phone: str, channel: str,
                           clock: Clock) -> tuple[Carer, Conversation]:
    """The carer with this number and their open conversation; both made on first contact."""
    found = sender(session, phone, channel, clock)
    return found.carer, found.conversation


def _open_conversation(session: Session, carer: Carer) -> Conversation | None:
    return session.scalars(
        select(Conversation).where(Conversation.carer_id == carer.id, Conversation.state != ConversationState.CLOSED)
        .order_by(Conversation.id.desc())
    ).first()


@dataclass(frozen=True)
class Claim:
    """A message the webhook handed straight to this process's worker: its lease, and the rows it read."""

    owner: str
    until: datetime
    message: Message
    carer: Carer
    conversation: Conversation
    previous_at: datetime | None  # when the carer's message before this one came
    outbox_clear: bool = False  # nothing of the carer's waited to be sent: the first reply may go at once


@dataclass(frozen=True)
class Stored:
    """A message kept: whose it is, and the hand-over when this process's worker may take it at once."""

    carer_id: int
    claim: Claim | None = None


_carers = cast(Table, Carer.__table__)  # typed as any FromClause; a declarative class's is its Table
_waiting = aliased(Message)
# No worker holds the carer: never leased, or the lease has run out (a worker that died).
LEASE_FREE = or_(_carers.c.lease_until.is_(None), _carers.c.lease_until < bindparam("p_now"))
# Lease the carer to this process's worker, in the UPDATE that records the carer's message anyway, when
# no other worker holds them and nothing of theirs waits: the worker goes straight to Rasa with the rows
# read here, and the reply path loses a transaction. Built once, like every statement on that path.
HAND_OVER = (
    update(_carers)
    .where(_carers.c.id == bindparam("p_carer_id"), LEASE_FREE,
           ~exists().where(_waiting.carer_id == bindparam("p_carer_id"), _waiting.direction == Direction.IN,
                           _waiting.state.in_(UNHANDLED)))
    .values(lease_owner=bindparam("p_owner"), lease_until=bindparam("p_until"),
            last_inbound_at=bindparam("p_now"), channel=bindparam("p_channel"))
    .returning(outbox.OUTBOX_BUSY)
)


class OwnerNames(Protocol):
    def new_owner(self) -> str: ...


class Receiving(Core, Protocol):
    """What storing a carer's message needs of the services: who may take it at once, and how to wake them."""

    wake: Callable[[int | None, Claim | None], None] | None

    @property
    def conversations(self) -> OwnerNames: ...


def store(session: Session, services: Receiving, incoming: IncomingMessage) -> Stored | None:
    """Keep the message and place it in its number's queue; None for a duplicate (nothing is changed then)."""
    found = sender(session, incoming.phone, incoming.channel, services.clock)
    carer, conv = found.carer, found.conversation
    previous_at = carer.last_inbound_at
    message = _message(carer, conv, incoming, services.clock.now())
    try:
        # Stored whatever happens; a flood waits its turn.
        verdict = ratelimit.admit(session, services, message, found.bucket, new_carer=found.new)
        lease = None
        held = carer.lease_until is not None and as_utc(carer.lease_until) > message.created_at
        if verdict == "now" and services.wake is not None and not held:  # held: its worker will loop to it
            lease = _hand_over(session, services, carer, message)
        if lease is None:
            _note_inbound(carer, incoming, message.created_at)
        # The unique MessageSid is the duplicate check: no read first, and a twin request in flight
        # waits on the index, then lands here. The whole unit is undone, so a retry changes nothing.
        if message in session:
            session.flush()  # added already: the flood notice points at it
        else:
            insert_now(session, message)
        if session.new or session.dirty:
            session.flush()  # a new carer's bucket, their name, the carer's last message time
    except IntegrityError:
        session.rollback()
        return None
    claim = None
    if lease is not None:
        owner, until, clear = lease
        claim = Claim(owner, until, message, carer, conv, previous_at, clear)
    return Stored(carer.id, claim)


def _hand_over(session: Session, services: Receiving, carer: Carer,
               message: Message) -> tuple[str, datetime, bool] | None:
    """Lease the carer for this process's worker if free and nothing of theirs waits; mark the message taken.

    Returns the lease, and whether the carer's outbox was empty; None when not leased."""
    now = message.created_at
    owner = services.conversations.new_owner()
    until = now + timedelta(seconds=services.settings.lease_seconds)
    taken = session.connection().execute(HAND_OVER, {"p_carer_id": carer.id, "p_now": now, "p_owner": owner,
                                                     "p_until": until, "p_channel": message.channel}).first()
    if taken is None:
        return None
    for name, value in (("lease_owner", owner), ("lease_until", until), ("last_inbound_at", now),
                        ("channel", message.channel)):
        set_committed_value(carer, name, value)  # written just now: no second UPDATE at the flush
    # Inserted as the worker's first attempt: if this process dies mid-turn, the retry asks Rasa what it
    # already answered instead of sending the message twice.
    message.state, message.attempts = MessageState.PROCESSING, 1
    return owner, until, not taken.outbox_busy


# Not a phone number, so never a carer's: the warm-up's rows cannot meet a real one's.
WARM_UP_ADDRESS = "warm-up"


def warm_up(services: Receiving) -> None:
    """Store a made-up first and second message and undo both: the first carer after a start pays no set-up.

    The first store in a process builds SQLAlchemy's mappers and compiles each statement of the webhook's
    path (about 17 ms on PostgreSQL here, four times a warm store); this pays it at start-up instead."""
    wake = services.wake
    if wake is None:
        services.wake = lambda *_: None  # so the hand-over's UPDATE is compiled too; no worker is woken
    session = services.db.sessions()
    try:
        for n in range(2):  # first contact, then a later turn of the same (uncommitted) carer
            store(session, services, IncomingMessage(
                message_sid=f"SM{n:032x}", account_sid="", from_address=WARM_UP_ADDRESS,
                to_address="", body=""))
    except Exception as exc:  # a database not up yet: start anyway, the first message pays instead
        log.warning("warm-up skipped: %s", type(exc).__name__)
    finally:
        session.rollback()
        session.close()
        services.wake = wake


def receive(session: Session, incoming: IncomingMessage, clock: Clock) -> Message | None:
    """Store an inbound message; None when Twilio already gave us this MessageSid (nothing is changed then)."""
    carer, conv = carer_and_conversation(session, incoming.phone, incoming.channel, clock)
    message = _message(carer, conv, incoming, clock.now())
    _note_inbound(carer, incoming, message.created_at)
    session.add(message)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    return message


def _note_inbound(carer: Carer, incoming: IncomingMessage, now: datetime) -> None:
    """The carer's channel and last message time move with each message (the hand-over writes them itself)."""
    if carer.channel != incoming.channel:
        carer.channel = incoming.channel
    carer.last_inbound_at = now


def _message(carer: Carer, conv: Conversation, incoming: IncomingMessage, now: datetime) -> Message:
    """The inbound row, not yet added."""
    if incoming.profile_name and not carer.profile_name:
        carer.profile_name = incoming.profile_name[:200]
    return Message(
        carer_id=carer.id,
        conversation_id=conv.id,
        direction=Direction.IN,
        channel=incoming.channel,
        kind=MessageKind.CARER,
        body=incoming.body,
        num_media=incoming.num_media,
        twilio_sid=incoming.message_sid,
        state=MessageState.PENDING,
        created_at=now,
    )
