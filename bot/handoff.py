"""Putting a person in the loop: handoff requests and the duty alert."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outbox
from bot.models import Carer, Conversation, Handoff

log = logging.getLogger("carertext.handoff")

URGENCY = {"safeguarding": "urgent", "asked_for_person": "soon", "not_understood": "soon", "completed": "routine"}


def open_handoff(session: Session, now, *, carer: Carer, conversation: Conversation, reason: str,
                 flags: tuple[str, ...] = (), trigger_message_id: int | None = None) -> Handoff:
    """Create a handoff, or return the open one of the same reason so a carer is not queued twice."""
    existing = session.scalars(
        select(Handoff).where(Handoff.carer_id == carer.id, Handoff.reason == reason, Handoff.state != "closed")
    ).first()
    if existing is not None:
        if flags:
            existing.risk_flags = sorted(set(existing.risk_flags or []) | set(flags))
        return existing
    handoff = Handoff(
        carer_id=carer.id, conversation_id=conversation.id, reason=reason, urgency=URGENCY.get(reason, "soon"),
        risk_flags=list(flags) or None, state="open", created_at=now, trigger_message_id=trigger_message_id,
    )
    session.add(handoff)
    session.flush()
    log.info("handoff opened id=%s reason=%s urgency=%s", handoff.id, reason, handoff.urgency)
    return handoff


def alert_duty(session: Session, now, settings, catalogue, handoff: Handoff) -> None:
    """Tell the duty contact at once, through the same outbox, by SMS to the duty phone."""
    if not settings.duty_phone:
        log.warning("no DUTY_PHONE set: urgent handoff %s shows only in the console", handoff.id)
        return
    body = catalogue.text("duty_alert", flags=", ".join(handoff.risk_flags or []), case=handoff.id)
    outbox.enqueue(session, now, carer=None, body=body, kind="alert", to_address=settings.duty_phone, channel="sms")
