"""Erasure: a carer's "delete my data" or an admin's erase removes what identifies them or what they said.

Rows stay, emptied, so reports keep their anonymous counts (messages in and out, handoffs, answers
by question). Every table on Base.metadata is swept, other features' tables included: rows linked to
the carer lose their free-text and JSON columns, and any column anywhere still holding the number is
cleared. Rasa's SQL tracker store loses the carer's dialogue events (RASA_TRACKER_DB_URL).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Boolean, Column, ColumnElement, DateTime, ForeignKey, Integer, String, Table, Text, \
    cast, create_engine, or_, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.config import Settings
from bot.parts import Core
from bot.models import (Base, Carer, Conversation, ConversationState, Direction, Handoff, Message, MessageState,
                        UNHANDLED, UNSENT)

log = logging.getLogger("carertext.erasure")

ERASED = "[erased]"
# Kept as written: the audit trail (ids and outcomes only, append-only) and our own tally.
KEEP_TABLES = {"audit_log", "erasures"}
# Columns of linked rows that identify or quote the carer although they are short.
ALSO_PERSONAL = {("messages", "to_address"), ("messages", "content_variables")}
# Tables that are nothing but facts about the carer (a postcode, council labels): their rows go entirely.
DELETE_TABLES = {"carer_tags", "carer_postcodes"}


class Erasure(Base):
    """One erasure, for reports: whose row (an id, nothing personal), when, why and by whom."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    carer_id: Mapped[int] = mapped_column(ForeignKey("carers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(16))  # carer, admin, retention
    actor: Mapped[str] = mapped_column(String(64))  # "carer", "retention" or "staff:<id>"
    messages_in: Mapped[int] = mapped_column(Integer, default=0)
    messages_out: Mapped[int] = mapped_column(Integer, default=0)
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # False while Rasa's tracker store still holds the carer's events (retried by erase_expired).
    tracker_erased: Mapped[bool] = mapped_column(Boolean, default=False)
    rasa_senders: Mapped[Optional[str]] = mapped_column(String(400))


def _texty(column: Column[Any]) -> bool:
    kind = column.type
    if isinstance(kind, JSON):
        return True
    return isinstance(kind, String) and (isinstance(kind, Text) or kind.length is None or kind.length >= 100)


def _blank(column: Column[Any]) -> str | dict[str, object] | None:
    if column.nullable:
        return None
    if isinstance(column.type, JSON):
        return {}
    length = getattr(column.type, "length", None)
    return ERASED if length is None or length >= len(ERASED) else ""


def _linked(table: Table, ids: dict[str, set[int]]) -> ColumnElement[bool] | None:
    """A condition selecting this table's rows that belong to the carer, or None."""
    conditions: list[ColumnElement[bool]] = []
    for name, keys in ids.items():
        if table.name == name and keys:
            conditions.append(table.c.id.in_(keys))
    for fk in table.foreign_keys:
        target = fk.column.table.name
        if target in ids and ids[target] and fk.parent.table is table:
            conditions.append(fk.parent.in_(ids[target]))
    return or_(*conditions) if conditions else None


def _sweep(session: Session, carer: Carer) -> None:
    """Empty the free text of every row linked to the carer, in every table."""
    conv_ids = set(session.scalars(select(Conversation.id).where(Conversation.carer_id == carer.id)))
    ids: dict[str, set[int]] = {
        "carers": set(),  # the carer row itself is handled by hand: its counts columns stay
        "conversations": conv_ids,
        "messages": set(session.scalars(select(Message.id).where(Message.carer_id == carer.id))),
        "handoffs": set(session.scalars(select(Handoff.id).where(Handoff.carer_id == carer.id))),
    }
    ids_with_carer = {**ids, "carers": {carer.id}}
    for table in Base.metadata.sorted_tables:
        if table.name in KEEP_TABLES or table.name == "carers":
            continue
        where = _linked(table, ids_with_carer)
        if where is None:
            continue
        if table.name in DELETE_TABLES:
            session.execute(table.delete().where(where))
            continue
        values = {c.name: _blank(c) for c in table.columns
                  if not c.primary_key and not c.foreign_keys
                  and (_texty(c) or (table.name, c.name) in ALSO_PERSONAL)}
        if values:
            session.execute(update(table).where(where).values(**values))


def _scrub_number(session: Session, phone: str) -> None:
    """Anywhere the number is still written (a note, a detail, a JSON value), clear that column."""
    digits = phone.lstrip("+")
    if len(digits) < 6:
        return
    for table in Base.metadata.sorted_tables:
        if table.name == "carers" or table.name in KEEP_TABLES:  # the audit log masks numbers as it is written
            continue
        for column in table.columns:
            if column.primary_key or not isinstance(column.type, (String, JSON)):
                continue
            if isinstance(column.type, String) and column.type.length and column.type.length < len(digits):
                continue  # too short to hold the number
            probe = cast(column, Text) if isinstance(column.type, JSON) else column
            session.execute(update(table).where(probe.like(f"%{digits}%")).values({column.name: _blank(column)}))


def erase_tracker(settings: Settings, senders: list[str]) -> bool:
    """Delete the senders' events from Rasa's SQL tracker store; False if it could not be reached."""
    if not senders:
        return True
    if not settings.rasa_tracker_db_url:
        log.warning("RASA_TRACKER_DB_URL not set: rasa tracker not erased")
        return False
    try:
        engine = create_engine(settings.rasa_tracker_db_url, hide_parameters=True)
        try:
            with engine.begin() as conn:
                for sender in senders:
                    conn.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})
        finally:
            engine.dispose()
    except Exception as exc:  # retried by erase_expired; the rest of the erasure stands
        log.warning("rasa tracker not erased: %s", type(exc).__name__)
        return False
    return True


def erase_in_session(session: Session, services: Core, carer: Carer, *, reason: str, actor: str,
                     keep_number: bool = False) -> Erasure:
    """Erase one carer inside the caller's session; keep_number leaves the number for one goodbye."""
    now = services.clock.now()
    phone = carer.phone
    session.flush()
    senders = list(session.scalars(select(Conversation.rasa_sender).where(Conversation.carer_id == carer.id)))
    _sweep(session, carer)
    if phone:
        _scrub_number(session, phone)
    # Waiting inbound messages are never handled now: there is nothing left to handle.
    session.execute(update(Message).where(Message.carer_id == carer.id, Message.direction == Direction.IN,
                                          Message.state.in_(UNHANDLED))
                    .values(state=MessageState.DONE, error_note="erased", next_attempt_at=None))
    session.execute(update(Conversation).where(Conversation.carer_id == carer.id)
                    .values(state=ConversationState.CLOSED))
    for obj in list(session.identity_map.values()):  # objects the caller holds must not write text back
        if isinstance(obj, Message) and obj.carer_id == carer.id:
            session.expire(obj)
    carer.profile_name, carer.contact_window, carer.erased_at = None, None, now
    if not keep_number:
        carer.phone = None

    def count(direction: str) -> int:
        return len(session.scalars(select(Message.id).where(Message.carer_id == carer.id,
                                                            Message.direction == direction)).all())

    tally = Erasure(carer_id=carer.id, reason=reason, actor=actor[:64], messages_in=count("in"),
                    messages_out=count("out"), erased_at=now, rasa_senders=",".join(senders)[:400])
    session.add(tally)
    tally.tracker_erased = erase_tracker(services.settings, senders)
    log.info("carer erased carer=%s reason=%s", carer.public_id[:8], reason)
    return tally


def erase_carer(services: Core, carer_id: int, actor: str, reason: str = "admin") -> bool:
    """An admin's erase: everything personal goes now, the number included; False if no such carer."""
    with services.db.session() as session:
        carer = session.get(Carer, carer_id)
        if carer is None:
            return False
        erase_in_session(session, services, carer, reason=reason, actor=actor)
    return True


def finish(session: Session, carer: Carer) -> bool:
    """Drop the number kept for the goodbye once nothing is waiting to go to it; True if done."""
    if carer.erased_at is None or carer.phone is None:
        return False
    waiting = session.scalars(select(Message.id).where(Message.carer_id == carer.id, Message.direction == Direction.OUT,
                                                       Message.state.in_(UNSENT))).first()
    if waiting is not None:
        return False
    phone = carer.phone
    carer.phone = None
    session.execute(update(Message).where(Message.carer_id == carer.id, Message.direction == Direction.OUT)
                    .values(body=None, to_address=None))
    session.flush()
    _scrub_number(session, phone)
    return True


def on_erase_confirmed(services: Core, session: Session, now: datetime, carer: Carer, conv: Conversation,
                       msg: Message | None, ev: dict[str, Any]) -> None:
    """The carer confirmed erasure (Rasa's erase_confirmed): erase now, keeping the number for the goodbye."""
    erase_in_session(session, services, carer, reason="carer", actor="carer", keep_number=True)


def on_settled(session: Session, message: Message) -> None:
    """A message settled in the outbox: if it was an erased carer's goodbye, drop the number it was kept for."""
    if message.carer_id is None:
        return
    carer = session.get(Carer, message.carer_id)
    if carer is not None and carer.erased_at is not None and carer.phone is not None:
        finish(session, carer)
