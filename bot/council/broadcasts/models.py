"""The broadcast's tables and states: what was sent, to whom, and how it went."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import Any, Optional

from sqlalchemy import (ForeignKey, Index, Integer, String, Text)
from sqlalchemy.orm import Mapped, mapped_column

from bot.models import Base



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


