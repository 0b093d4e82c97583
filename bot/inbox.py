"""The durable inbox: a carer's message is stored before Twilio gets its answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.models import Carer, Conversation, Message

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
        body = clean_text(form.get("Body") or "")[:MAX_BODY]
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


def find_or_create_carer(session: Session, phone: str, channel: str, clock: Clock) -> Carer:
    """The carer with this number, created on first contact (a race with a twin request is survived)."""
    carer = session.scalars(select(Carer).where(Carer.phone == phone)).first()
    if carer is not None:
        return carer
    try:
        with session.begin_nested():
            carer = Carer(phone=phone, channel=channel, created_at=clock.now())
            session.add(carer)
    except IntegrityError:
        carer = session.scalars(select(Carer).where(Carer.phone == phone)).one()
    return carer


def current_conversation(session: Session, carer: Carer, clock: Clock) -> Conversation:
    """The carer's open conversation, started if there is none."""
    conv = session.scalars(
        select(Conversation)
        .where(Conversation.carer_id == carer.id, Conversation.state != "closed")
        .order_by(Conversation.id.desc())
    ).first()
    if conv is None:
        try:
            with session.begin_nested():
                conv = Conversation(carer_id=carer.id, started_at=clock.now())
                session.add(conv)
        except IntegrityError:  # a twin request started it a moment ago
            conv = session.scalars(
                select(Conversation).where(Conversation.carer_id == carer.id, Conversation.state != "closed")
            ).one()
    return conv


def receive(session: Session, incoming: IncomingMessage, clock: Clock) -> Message | None:
    """Store an inbound message; None when Twilio already gave us this MessageSid."""
    if session.scalars(select(Message.id).where(Message.twilio_sid == incoming.message_sid)).first():
        return None
    carer = find_or_create_carer(session, incoming.phone, incoming.channel, clock)
    now = clock.now()
    carer.channel = incoming.channel
    carer.last_inbound_at = now
    if incoming.profile_name and not carer.profile_name:
        carer.profile_name = incoming.profile_name[:200]
    conv = current_conversation(session, carer, clock)
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
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return None  # the same MessageSid arrived twice at once
    return message
