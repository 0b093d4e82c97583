"""Putting a person in the loop: handoff requests, the duty alert, and what a worker does with them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.catalogue import Catalogue
from bot.config import Settings
from bot.db import rows_changed
from bot.messaging import outbox
from bot.parts import Core
from bot.duty import staff, worksheet
from bot.timing import working_days
from bot.adapters.rasa_client import DialogueModel, RasaMessage, RasaUnavailable
from bot.timing.clock import as_utc
from bot.models import (Answer, Carer, Conversation, ConversationState, Handoff, HandoffReason, HandoffState, Message,
                        MessageKind, Urgency)
from bot.duty.staff import Worker

log = logging.getLogger("carertext.handoff")

URGENCY: dict[str, Urgency] = {HandoffReason.SAFEGUARDING: Urgency.URGENT, HandoffReason.SAFETY_CHECK: Urgency.SOON,
           HandoffReason.UNSAFE_TO_TEXT: Urgency.SOON, HandoffReason.ASKED_FOR_PERSON: Urgency.SOON,
           HandoffReason.NOT_UNDERSTOOD: Urgency.SOON, HandoffReason.BEREAVEMENT: Urgency.SOON,
           HandoffReason.CIRCUMSTANCES_CHANGED: Urgency.SOON, HandoffReason.COMPLETED: Urgency.ROUTINE}
URGENCY_ORDER: dict[str, int] = {Urgency.URGENT: 0, Urgency.SOON: 1, Urgency.ROUTINE: 2}
# How a worker may close a handoff; shown in the console's close form.
OUTCOMES = {
    "resolved": "Resolved with the carer",
    "safeguarding_referral": "Referred for a safeguarding enquiry (s.42)",
    "emergency_services": "Emergency services involved",
    "referred_elsewhere": "Referred to another service",
    "no_contact": "Could not reach the carer",
    "false_alarm": "No concern found",
}
MAX_REPLY = 1600  # Twilio's body limit


class HandoffError(Exception):
    """A worker's action that cannot be done (not theirs, already closed, empty reply)."""


def open_handoff(session: Session, now: datetime, *, carer: Carer, conversation: Conversation, reason: str,
                 flags: tuple[str, ...] = (), trigger_message_id: int | None = None) -> Handoff:
    """Create a handoff, or return the open one of the same reason so a carer is not queued twice."""
    existing = session.scalars(
        select(Handoff).where(Handoff.carer_id == carer.id, Handoff.reason == reason,
                              Handoff.state != HandoffState.CLOSED)
    ).first()
    if existing is not None:
        if flags:
            existing.risk_flags = sorted(set(existing.risk_flags or []) | set(flags))
        return existing
    handoff = Handoff(
        carer_id=carer.id, conversation_id=conversation.id, reason=reason, urgency=URGENCY.get(reason, Urgency.SOON),
        risk_flags=list(flags) or None, state=HandoffState.OPEN, created_at=now, trigger_message_id=trigger_message_id,
    )
    session.add(handoff)
    session.flush()
    log.info("handoff opened id=%s reason=%s urgency=%s", handoff.id, reason, handoff.urgency)
    return handoff


def alert_duty(session: Session, now: datetime, settings: Settings, catalogue: Catalogue, handoff: Handoff) -> None:
    """Tell the duty contact at once, through the same outbox: SMS to the duty phone, e-mail and/or chat."""
    emails = [a.strip() for a in settings.duty_email.split(",") if a.strip()]
    if not settings.duty_phone and not emails and not settings.duty_webhook_url:
        log.warning("no DUTY_PHONE, DUTY_EMAIL or DUTY_WEBHOOK_URL set: urgent handoff %s shows only in the console",
                    handoff.id)
        return
    flags = ", ".join(handoff.risk_flags or [])
    closed = "" if working_days.duty_team_open(now, settings) else catalogue.text("duty_alert_out_of_hours")
    if settings.duty_phone:
        body = catalogue.text("duty_alert", flags=flags, case=handoff.id) + closed
        outbox.enqueue(session, now, carer=None, body=body, kind=MessageKind.ALERT, to_address=settings.duty_phone,
                       channel="sms")
    # No name, number or words of the carer's in an e-mail: only the case and a link behind the console's sign-in.
    link = f"{settings.public_base_url.rstrip('/')}/console/handoffs/{handoff.id}"
    body = (catalogue.text("duty_alert_subject", case=handoff.id) + "\n"
            + catalogue.text("duty_alert_email", flags=flags, case=handoff.id, link=link) + closed)
    for address in emails:
        outbox.enqueue(session, now, carer=None, body=body, kind=MessageKind.ALERT, to_address=address,
                       channel=outbox.EMAIL)
    if settings.duty_webhook_url:  # the same words; the address stays in the settings (it holds the secret)
        outbox.enqueue(session, now, carer=None, body=body, kind=MessageKind.ALERT, to_address="duty chat",
                       channel=outbox.CHAT)


# -- the queue -----------------------------------------------------------------------------------


def due_by(handoff: Handoff, settings: Settings) -> datetime:
    """When a person should have picked this handoff up, from its urgency's target."""
    created = as_utc(handoff.created_at)
    if handoff.urgency == Urgency.URGENT:
        return created + timedelta(minutes=settings.handoff_target_urgent_minutes)
    if handoff.urgency == Urgency.SOON:
        return working_days.for_settings(settings).add(created, settings.handoff_target_soon_working_days)
    return created + timedelta(days=settings.handoff_target_routine_days)


def target_label(urgency: str, settings: Settings) -> str:
    if urgency == Urgency.URGENT:
        return f"{settings.handoff_target_urgent_minutes} min"
    if urgency == Urgency.SOON:
        n = settings.handoff_target_soon_working_days
        return f"{n} working day" + ("s" if n != 1 else "")
    return f"{settings.handoff_target_routine_days} days"


def duration_label(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days {hours % 24} h"


@dataclass
class QueueItem:
    """One line of the duty queue."""

    id: int
    urgency: str
    reason: str
    state: str
    carer_label: str
    risk_flags: list[str]
    created_at: datetime
    waited: timedelta
    waited_label: str
    target_label: str
    overdue: bool
    claimed_by: str | None

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "urgency": self.urgency, "reason": self.reason, "state": self.state,
                "carer": self.carer_label, "risk_flags": self.risk_flags, "waited": self.waited_label,
                "target": self.target_label, "overdue": self.overdue, "claimed_by": self.claimed_by}


def carer_label(session: Session, carer: Carer, conversation_id: int | None) -> str:
    """How a worker knows the carer at a glance: the name they gave, and the end of the number."""
    name = None
    if conversation_id is not None:
        answer = worksheet.current_answers(session, conversation_id).get("name")
        name = str(answer.value).strip()[:60] if answer is not None and answer.value else None
    name = name or (carer.profile_name or "").strip()[:60] or "Carer"
    tail = f" (...{carer.phone[-4:]})" if carer.phone else " (erased)"
    return name + tail


def queue(session: Session, now: datetime, settings: Settings) -> list[QueueItem]:
    """Open and held handoffs: most urgent first, then whoever has waited longest."""
    handoffs = list(session.scalars(select(Handoff).where(Handoff.state != HandoffState.CLOSED)))
    names = {w.id: w.display_name for w in session.scalars(select(Worker))}
    items = []
    for h in handoffs:
        carer = session.get_one(Carer, h.carer_id)
        waited = now - as_utc(h.created_at)
        items.append(QueueItem(
            id=h.id, urgency=h.urgency, reason=h.reason, state=h.state,
            carer_label=carer_label(session, carer, h.conversation_id), risk_flags=list(h.risk_flags or []),
            created_at=as_utc(h.created_at), waited=waited, waited_label=duration_label(waited),
            target_label=target_label(h.urgency, settings),
            overdue=h.state == HandoffState.OPEN and now > due_by(h, settings),
            claimed_by=names.get(h.claimed_by) if h.claimed_by else None,
        ))
    items.sort(key=lambda i: (i.state != HandoffState.OPEN, URGENCY_ORDER.get(i.urgency, 9), i.created_at, i.id))
    return items


# -- a worker's actions --------------------------------------------------------------------------


def claim(session: Session, now: datetime, handoff_id: int, worker: Worker) -> bool:
    """Take a handoff; exactly one of two workers claiming at once wins (a conditional UPDATE)."""
    result = session.execute(
        update(Handoff).where(Handoff.id == handoff_id, Handoff.state == HandoffState.OPEN)
        .values(state=HandoffState.CLAIMED, claimed_by=worker.id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        staff.audit(session, now, worker, "claim_lost", handoff_id=handoff_id)
        return False
    handoff = session.get_one(Handoff, handoff_id)
    session.refresh(handoff)
    conv = session.get(Conversation, handoff.conversation_id) if handoff.conversation_id else None
    if conv is not None:
        conv.state = ConversationState.PERSON  # the bot goes quiet while a person holds the conversation
    staff.audit(session, now, worker, "claim", carer_id=handoff.carer_id, handoff_id=handoff.id)
    log.info("handoff claimed id=%s worker=%s", handoff.id, worker.id)
    return True


def _held(session: Session, handoff_id: int, worker: Worker) -> Handoff:
    """The handoff if this worker may act on it: they hold it, or they manage the team."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None or handoff.state != HandoffState.CLAIMED:
        raise HandoffError("claim this handoff first")
    if handoff.claimed_by != worker.id and not worker.may("act_on_any_handoff"):
        raise HandoffError("another worker holds this handoff")
    return handoff


def reply(session: Session, now: datetime, handoff_id: int, worker: Worker, text: str) -> int:
    """Queue a worker's message to the carer on their channel; returns the carer id to send for."""
    handoff = _held(session, handoff_id, worker)
    text = (text or "").strip()
    if not text:
        raise HandoffError("write a message first")
    if len(text) > MAX_REPLY:
        raise HandoffError(f"a message can be at most {MAX_REPLY} characters")
    carer = session.get_one(Carer, handoff.carer_id)
    conv = session.get(Conversation, handoff.conversation_id) if handoff.conversation_id else None
    message = outbox.enqueue(session, now, carer=carer, conversation=conv, body=text, kind=MessageKind.WORKER,
                             channel=carer.channel)
    staff.audit(session, now, worker, "reply", carer_id=carer.id, handoff_id=handoff.id,
                detail=f"message={message.id}")
    return carer.id


class RepliesApplier(Protocol):
    def apply_replies(self, session: Session, carer: Carer, conv: Conversation, msg: Message | None,
                      replies: list[RasaMessage], kind: str = "reply") -> None: ...


class HandingBack(Core, Protocol):
    """What a hand-back needs of the services: the dialogue model, the conversations and the outbox too."""

    @property
    def rasa(self) -> DialogueModel: ...

    @property
    def conversations(self) -> RepliesApplier: ...

    @property
    def outbox(self) -> outbox.Outbox: ...


def hand_back(services: HandingBack, handoff_id: int, worker_id: int) -> None:
    """Give the conversation back to the bot: tell the carer, and re-ask the question it stopped on."""
    now = services.clock.now()
    with services.db.session() as session:
        worker = session.get_one(Worker, worker_id)  # the signed-in worker
        handoff = _held(session, handoff_id, worker)
        carer = session.get_one(Carer, handoff.carer_id)
        assert handoff.conversation_id is not None  # a handoff is opened in a conversation; only erasure empties it
        conv = session.get_one(Conversation, handoff.conversation_id)
        handoff.state, handoff.outcome, handoff.closed_at = HandoffState.CLOSED, "handed_back", now
        if not _other_open(session, handoff):
            conv.state = ConversationState.BOT
            outbox.enqueue(session, now, carer=carer, conversation=conv, kind=MessageKind.REPLY, channel=carer.channel,
                           body=services.catalogue.text("handed_back", carer.language))
        staff.audit(session, now, worker, "hand_back", carer_id=carer.id, handoff_id=handoff.id)
        sender, carer_id, conv_id, resume = conv.rasa_sender, carer.id, conv.id, conv.state == ConversationState.BOT
    if resume:
        try:
            replies = services.rasa.trigger(sender, "EXTERNAL_resume")
        except RasaUnavailable as exc:  # the hand-back stands; the carer's next message resumes it anyway
            log.warning("resume after hand-back failed handoff=%s error=%s", handoff_id, type(exc).__name__)
            replies = []
        with services.db.session() as session:
            carer, conv = session.get_one(Carer, carer_id), session.get_one(Conversation, conv_id)
            services.conversations.apply_replies(session, carer, conv, None, replies)
    services.outbox.send_for_carer(carer_id)


def _other_open(session: Session, handoff: Handoff) -> bool:
    """Whether another handoff for this carer still needs a person (so the bot must stay quiet)."""
    return session.scalars(
        select(Handoff.id).where(Handoff.carer_id == handoff.carer_id, Handoff.id != handoff.id,
                                 Handoff.state != HandoffState.CLOSED, Handoff.reason == HandoffReason.SAFEGUARDING)
    ).first() is not None


def close(session: Session, now: datetime, handoff_id: int, worker: Worker, outcome: str, note: str) -> None:
    """Close a handoff with an outcome and a note; the bot answers the carer's next message again."""
    if outcome not in OUTCOMES:
        raise HandoffError("choose an outcome")
    handoff = _held(session, handoff_id, worker)
    handoff.state, handoff.outcome, handoff.closed_at = HandoffState.CLOSED, outcome, now
    handoff.note = (note or "").strip()[:4000] or None
    conv = session.get(Conversation, handoff.conversation_id) if handoff.conversation_id else None
    if conv is not None and conv.state == ConversationState.PERSON and not _other_open(session, handoff):
        conv.state = ConversationState.BOT
    staff.audit(session, now, worker, "close", carer_id=handoff.carer_id, handoff_id=handoff.id,
                detail=f"outcome={outcome}")


def decide(session: Session, now: datetime, catalogue: Catalogue, handoff_id: int, worker: Worker, *, eligible: bool,
           reasons: str, conditions: dict[str, Any] | None = None) -> int:
    """Record the eligibility decision on a completed assessment and tell the carer in plain words."""
    handoff = _held(session, handoff_id, worker)
    if handoff.reason != HandoffReason.COMPLETED:
        raise HandoffError("only a completed assessment has an eligibility decision")
    reasons = (reasons or "").strip()
    if not reasons:
        raise HandoffError("write the reasons: the carer is owed them in writing")
    carer = session.get_one(Carer, handoff.carer_id)
    conv = session.get(Conversation, handoff.conversation_id) if handoff.conversation_id else None
    decision = staff.EligibilityDecision(
        handoff_id=handoff.id, carer_id=carer.id, conversation_id=conv.id if conv else None, eligible=eligible,
        conditions=conditions or None, reasons=reasons[:8000], decided_by=worker.id, decided_at=now,
    )
    session.add(decision)
    outbox.enqueue(session, now, carer=carer, conversation=conv, kind=MessageKind.WORKER, channel=carer.channel,
                   body=catalogue.text("decision_eligible" if eligible else "decision_not_eligible", carer.language))
    handoff.state, handoff.closed_at = HandoffState.CLOSED, now
    handoff.outcome = "eligible" if eligible else "not_eligible"
    if conv is not None and conv.state == ConversationState.PERSON and not _other_open(session, handoff):
        conv.state = ConversationState.BOT
    session.flush()
    staff.audit(session, now, worker, "decide", carer_id=carer.id, handoff_id=handoff.id,
                detail=f"decision={decision.id} eligible={eligible}")
    return carer.id


# -- what the worker reads -----------------------------------------------------------------------


@dataclass
class CaseView:
    """Everything the handoff page shows: the summary first, then the whole conversation."""

    handoff: Handoff
    carer: Carer
    conversation: Conversation | None
    carer_name: str
    trigger: Message | None
    answers: list[tuple[str, Answer]]  # in the order the questions are asked
    worksheet: worksheet.Worksheet | None
    decision: staff.EligibilityDecision | None
    messages: list[Message]
    claimed_by: str | None
    waited_label: str
    target_label: str
    overdue: bool


def view(session: Session, now: datetime, settings: Settings, handoff_id: int, worker: Worker) -> CaseView | None:
    """Read one handoff and the carer's record; the read is written to the audit log."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return None
    carer = session.get_one(Carer, handoff.carer_id)
    conv = session.get(Conversation, handoff.conversation_id) if handoff.conversation_id else None
    questions = worksheet.load_questions()
    answers = worksheet.current_answers(session, conv.id) if conv is not None else {}
    order = {qid: i for i, qid in enumerate(questions)}
    ordered = sorted(answers.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[1].id))
    sheet = worksheet.draft(answers, questions) if handoff.reason == HandoffReason.COMPLETED and answers else None
    decision = session.scalars(select(staff.EligibilityDecision)
                               .where(staff.EligibilityDecision.handoff_id == handoff.id)
                               .order_by(staff.EligibilityDecision.id.desc())).first()
    messages = list(session.scalars(select(Message).where(Message.carer_id == carer.id).order_by(Message.id)))
    claimer = session.get(Worker, handoff.claimed_by) if handoff.claimed_by else None
    name = answers.get("name")
    waited = now - as_utc(handoff.created_at)
    staff.audit(session, now, worker, "view_handoff", carer_id=carer.id, handoff_id=handoff.id)
    return CaseView(
        handoff=handoff, carer=carer, conversation=conv,
        carer_name=(str(name.value) if name is not None and name.value else carer.profile_name or "not given"),
        trigger=session.get(Message, handoff.trigger_message_id) if handoff.trigger_message_id else None,
        answers=ordered, worksheet=sheet, decision=decision, messages=messages,
        claimed_by=claimer.display_name if claimer else None, waited_label=duration_label(waited),
        target_label=target_label(handoff.urgency, settings),
        overdue=handoff.state == HandoffState.OPEN and now > due_by(handoff, settings),
    )


def messages_after(session: Session, now: datetime, handoff_id: int, worker: Worker, after_id: int) -> list[Message]:
    """The carer's messages newer than `after_id`, for an open handoff page; new ones are audited."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return []
    found = list(session.scalars(select(Message).where(Message.carer_id == handoff.carer_id, Message.id > after_id)
                                 .order_by(Message.id).limit(200)))
    if found:
        staff.audit(session, now, worker, "view_messages", carer_id=handoff.carer_id, handoff_id=handoff.id,
                    detail=f"after={after_id}")
    return found


def assessment_for(session: Session, now: datetime, handoff_id: int, worker: Worker,
                   action: str) -> dict[str, Any] | None:
    """The assessment record behind a handoff, with the read written to the audit log."""
    from bot.duty.assessment.record import assessment_record

    handoff = session.get(Handoff, handoff_id)
    if handoff is None or handoff.conversation_id is None:
        return None
    record = assessment_record(session, handoff.conversation_id)
    staff.audit(session, now, worker, action, carer_id=handoff.carer_id, handoff_id=handoff.id)
    return record
