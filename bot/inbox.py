"""The durable inbox: a carer's message is stored before Twilio gets its answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from sqlalchemy import and_, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import ratelimit
from bot.clock import Clock
from bot.models import Carer, Conversation, Message
from bot.whatsapp_buttons import tapped_choice

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


# Built once: on the webhook's path, building a statement costs more than running it.
CARER_AND_CONVERSATION = (
    select(Carer, Conversation)
    .outerjoin(Conversation, and_(Conversation.carer_id == Carer.id, Conversation.state != "closed"))
    .where(Carer.phone == bindparam("phone"))
    .order_by(Conversation.id.desc())
    .limit(1)
)


def carer_and_conversation(session: Session, phone: str, channel: str,
                           clock: Clock) -> tuple[Carer, Conversation]:
    """The carer with this number and their open conversation, in one query; both made on first contact."""
    row = session.execute(CARER_AND_CONVERSATION, {"phone": phone}).first()
    carer, conv = row if row is not None else (None, None)
    if carer is None:
        try:
            with session.begin_nested():
                carer = Carer(phone=phone, channel=channel, created_at=clock.now())
                session.add(carer)
        except IntegrityError:  # a twin request made the carer a moment ago
            carer = session.scalars(select(Carer).where(Carer.phone == phone)).one()
            conv = _open_conversation(session, carer)
    if conv is None:
        try:
            with session.begin_nested():
                conv = Conversation(carer_id=carer.id, started_at=clock.now())
                session.add(conv)
        except IntegrityError:  # a twin request started it a moment ago
            conv = _open_conversation(session, carer)
    return carer, conv


def _open_conversation(session: Session, carer: Carer) -> Conversation | None:
    return session.scalars(
        select(Conversation).where(Conversation.carer_id == carer.id, Conversation.state != "closed")
        .order_by(Conversation.id.desc())
    ).first()


def store(session: Session, services, incoming: IncomingMessage) -> int | None:
    """Keep the message and place it in its number's queue; the carer's id, or None for a duplicate."""
    stored = receive(session, incoming, services.clock)
    if stored is None:
        return None
    ratelimit.admit(session, services, stored)  # stored whatever happens; a flood waits its turn
    return stored.carer_id


def receive(session: Session, incoming: IncomingMessage, clock: Clock) -> Message | None:
    """Store an inbound message; None when Twilio already gave us this MessageSid (nothing is changed then)."""
    carer, conv = carer_and_conversation(session, incoming.phone, incoming.channel, clock)
    now = clock.now()
    carer.channel = incoming.channel
    carer.last_inbound_at = now
    if incoming.profile_name and not carer.profile_name:
        carer.profile_name = incoming.profile_name[:200]
    message = Message(
        carer_id=carer.id,
        conversation_id=conv.id,
        direction="in",
        channel=incoming.channel,
        kind="carer",
        body=incoming.body,
        num_media=incoming.num_media,
        twilio_sid=incoming.message_sid,
        state="pending",
        created_at=now,
    )
    session.add(message)
    try:
        # The unique MessageSid is the duplicate check: no read first, and a twin request in flight
        # waits on the index, then lands here. The whole unit is undone, so a retry changes nothing.
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    return message
