"""What CarerText remembers: carers, their conversations, every message in and out."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Optional

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


def new_public_id() -> str:
    return uuid.uuid4().hex


# States and kinds are stored as their values (plain strings), so a StrEnum compares equal to what a row holds.


class Direction(StrEnum):
    """Which way a message goes: the inbox is the rows in, the outbox the rows out."""

    IN = "in"
    OUT = "out"


class MessageState(StrEnum):
    """Where a message is. In: pending, processing, done. Out: pending, sending, sent, failed, skipped."""

    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


UNHANDLED = (MessageState.PENDING, MessageState.PROCESSING)  # a carer's message not yet answered
UNSENT = (MessageState.PENDING, MessageState.SENDING)  # a message out not yet settled


class MessageKind(StrEnum):
    """What a message is for: a carer's own, or which part of CarerText sent it."""

    CARER = "carer"
    REPLY = "reply"
    OPT_OUT = "opt_out"  # the confirmation of a STOP: the one message an opted-out carer still gets
    CRISIS = "crisis"
    HOLDING = "holding"
    APOLOGY = "apology"
    SYSTEM = "system"
    WORKER = "worker"
    ALERT = "alert"
    REMINDER = "reminder"
    BROADCAST = "broadcast"


class ConversationState(StrEnum):
    """Who answers the carer: the bot, the bot waiting on "are you safe?", a person, or nobody (closed)."""

    BOT = "bot"
    SAFETY_CHECK = "safety_check"
    PERSON = "person"
    CLOSED = "closed"


class AssessmentStatus(StrEnum):
    """How far the carer's assessment has come, as the gateway records it from the dialogue's events."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ENDED = "ended"  # the person cared for died: no question or reminder again


class HandoffState(StrEnum):
    """A handoff waits (open), is held by a worker (claimed), or is done (closed)."""

    OPEN = "open"
    CLAIMED = "claimed"
    CLOSED = "closed"


class HandoffReason(StrEnum):
    """Why a person was asked to take over."""

    SAFEGUARDING = "safeguarding"
    SAFETY_CHECK = "safety_check"
    UNSAFE_TO_TEXT = "unsafe_to_text"
    ASKED_FOR_PERSON = "asked_for_person"
    NOT_UNDERSTOOD = "not_understood"
    BEREAVEMENT = "bereavement"
    CIRCUMSTANCES_CHANGED = "circumstances_changed"  # a care home or hospital
    COMPLETED = "completed"


class Urgency(StrEnum):
    """How soon a handoff must be picked up (HANDOFF_TARGET_* settings)."""

    URGENT = "urgent"
    SOON = "soon"
    ROUTINE = "routine"


class Carer(Base):
    """A person who texts us; one carer whether they use SMS or WhatsApp (keyed on the number)."""

    __tablename__ = "carers"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    # E.164 without the whatsapp: prefix; None once erased.
    phone: Mapped[Optional[str]] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(16), default="sms")
    language: Mapped[str] = mapped_column(String(8), default="en")
    profile_name: Mapped[Optional[str]] = mapped_column(String(200))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[Optional[datetime]]
    created_at: Mapped[datetime]
    last_inbound_at: Mapped[Optional[datetime]]
    # A short lease so only one worker handles a carer's messages at a time, in order.
    lease_owner: Mapped[Optional[str]] = mapped_column(String(64))
    lease_until: Mapped[Optional[datetime]]
    apology_sent_at: Mapped[Optional[datetime]]
    # When the carer said suits them ("evenings", "after 7"), in their words; reminders read it.
    contact_window: Mapped[Optional[str]] = mapped_column(String(200))
    erased_at: Mapped[Optional[datetime]]

    conversations: Mapped[list["Conversation"]] = relationship(back_populates="carer")

    @property
    def address(self) -> str:
        """The Twilio address of the carer's current channel."""
        return f"whatsapp:{self.phone}" if self.channel == "whatsapp" else (self.phone or "")


class Conversation(Base):
    """One assessment episode with a carer, as the dialogue model sees it."""

    __tablename__ = "conversations"
    # One open conversation per carer, even when their first two messages reach two gateways at once.
    __table_args__ = (
        Index("uq_conversations_open", "carer_id", unique=True,
              postgresql_where=text("state != 'closed'"), sqlite_where=text("state != 'closed'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    carer_id: Mapped[int] = mapped_column(ForeignKey("carers.id"), index=True)
    # The Rasa sender id: never the phone number.
    rasa_sender: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    state: Mapped[str] = mapped_column(String(16), default=ConversationState.BOT)
    assessment_status: Mapped[str] = mapped_column(String(16), default=AssessmentStatus.NOT_STARTED)
    current_section: Mapped[Optional[str]] = mapped_column(String(64))
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    turns_in_session: Mapped[int] = mapped_column(Integer, default=0)
    sessions_started: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime]
    last_message_at: Mapped[Optional[datetime]]
    completed_at: Mapped[Optional[datetime]]

    carer: Mapped[Carer] = relationship(back_populates="conversations")


class Message(Base):
    """One message in or out. Inbound rows are the durable inbox; outbound rows the outbox."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_queue", "direction", "state", "next_attempt_at"),
        Index("ix_messages_carer", "carer_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    carer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("carers.id"))
    conversation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("conversations.id"))
    direction: Mapped[str] = mapped_column(String(3))  # Direction
    channel: Mapped[str] = mapped_column(String(16))  # sms / whatsapp
    kind: Mapped[str] = mapped_column(String(16), default=MessageKind.REPLY)
    body: Mapped[Optional[str]] = mapped_column(Text)
    # For alerts to a duty phone, which is not a carer.
    to_address: Mapped[Optional[str]] = mapped_column(String(64))
    content_sid: Mapped[Optional[str]] = mapped_column(String(34))
    content_variables: Mapped[Optional[dict[str, Any]]]
    num_media: Mapped[int] = mapped_column(Integer, default=0)
    twilio_sid: Mapped[Optional[str]] = mapped_column(String(34), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=MessageState.PENDING)
    # Twilio's delivery status for outbound; only moves forward.
    delivery_status: Mapped[Optional[str]] = mapped_column(String(16))
    error_code: Mapped[Optional[int]]
    error_note: Mapped[Optional[str]] = mapped_column(String(200))
    num_segments: Mapped[Optional[int]]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[Optional[datetime]]
    in_reply_to_id: Mapped[Optional[int]] = mapped_column(ForeignKey("messages.id"))
    broadcast_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime]
    processed_at: Mapped[Optional[datetime]]
    status_at: Mapped[Optional[datetime]]


class Answer(Base):
    """One answer in a carer's assessment, with the question it belongs to."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    question_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[Optional[Any]] = mapped_column(JSON)
    raw: Mapped[Optional[str]] = mapped_column(Text)
    # answered, skipped, unclear, changed
    status: Mapped[str] = mapped_column(String(16))
    changed: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime]
    message_id: Mapped[Optional[int]] = mapped_column(ForeignKey("messages.id"))


class Handoff(Base):
    """A request for a person to take over: crisis, asked for someone, or a finished assessment."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    carer_id: Mapped[int] = mapped_column(ForeignKey("carers.id"), index=True)
    conversation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("conversations.id"))
    reason: Mapped[str] = mapped_column(String(32))  # HandoffReason
    urgency: Mapped[str] = mapped_column(String(16))  # Urgency
    risk_flags: Mapped[Optional[list[str]]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=HandoffState.OPEN)
    claimed_by: Mapped[Optional[int]]
    claimed_at: Mapped[Optional[datetime]]
    outcome: Mapped[Optional[str]] = mapped_column(String(64))
    note: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime]
    closed_at: Mapped[Optional[datetime]]
    trigger_message_id: Mapped[Optional[int]] = mapped_column(ForeignKey("messages.id"))


class StatusEvent(Base):
    """Every delivery status callback as Twilio sent it, duplicates and all, for reports."""

    __tablename__ = "status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    twilio_sid: Mapped[str] = mapped_column(String(34), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[Optional[int]]
    received_at: Mapped[datetime]


class ChoiceButtons(Base):
    """A Twilio Content (HX...) showing one set of choices as WhatsApp buttons or a list, in one language."""

    __tablename__ = "choice_buttons"
    __table_args__ = (UniqueConstraint("language", "choices", name="uq_choice_buttons_set"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    # The choices' catalogue keys in the order Rasa sends them, comma-separated ("choice.yes,choice.no").
    choices: Mapped[str] = mapped_column(String(400))
    # twilio/quick-reply (up to 3) or twilio/list-picker (up to 10)
    content_type: Mapped[str] = mapped_column(String(32))
    content_sid: Mapped[str] = mapped_column(String(34), unique=True)
    # What the Content was made from (texts, type, limits): a changed catalogue text makes the row stale.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
