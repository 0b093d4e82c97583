"""Figures for the council: assessments, where carers stop, handoffs, delivery and opt-outs, over a date range."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.messaging import outbox
from bot.timing.clock import as_utc
from bot.models import AssessmentStatus, Answer, Carer, Conversation, Direction, Handoff, Message, MessageState

TABLES = ("weekly", "stops", "handoffs", "delivery", "opt_outs")
Cell = str | int | float


@dataclass
class Table:
    """One table of the reports page; the page draws a chart from it and offers it as CSV."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def _week(moment: datetime) -> str:
    day = as_utc(moment).date()
    return (day - timedelta(days=day.weekday())).isoformat()  # the Monday the week starts on


def _minutes(a: datetime, b: datetime) -> float:
    return (as_utc(b) - as_utc(a)).total_seconds() / 60


def build(session: Session, now: datetime, start: datetime, end: datetime, abandoned_after_days: int) -> dict[str, Any]:
    """Every table for [start, end), by name (TABLES), and two figures: median_days_to_complete and completed."""
    # A dict, not a TypedDict: the console reads the tables by a name it holds in a variable.
    quiet_since = now - timedelta(days=abandoned_after_days)
    convs = session.scalars(select(Conversation).where(Conversation.started_at < end)).all()
    weeks: dict[str, list[int]] = {}
    durations: list[float] = []
    abandoned: list[int] = []
    for c in convs:
        if c.assessment_status != AssessmentStatus.NOT_STARTED and start <= as_utc(c.started_at) < end:
            weeks.setdefault(_week(c.started_at), [0, 0, 0])[0] += 1
        if c.completed_at is not None and start <= as_utc(c.completed_at) < end:
            weeks.setdefault(_week(c.completed_at), [0, 0, 0])[1] += 1
            durations.append((as_utc(c.completed_at) - as_utc(c.started_at)).total_seconds() / 86400)
        last = as_utc(c.last_message_at or c.started_at)
        if c.assessment_status == AssessmentStatus.IN_PROGRESS and last < quiet_since and start <= last < end:
            weeks.setdefault(_week(last), [0, 0, 0])[2] += 1
            abandoned.append(c.id)
    weekly = Table("weekly", "Assessments per week", ["week", "started", "completed", "abandoned"],
                   [[w, *v] for w, v in sorted(weeks.items())])

    stops: dict[str, int] = {}
    if abandoned:
        last_answer = (select(Answer.conversation_id, func.max(Answer.id).label("aid"))
                       .where(Answer.conversation_id.in_(abandoned)).group_by(Answer.conversation_id).subquery())
        for question in session.scalars(select(Answer.question_id).join(last_answer, last_answer.c.aid == Answer.id)):
            stops[question] = stops.get(question, 0) + 1
        stops["(before the first answer)"] = len(abandoned) - sum(stops.values())
    stop_table = Table("stops", "Where carers stop (last answer of abandoned assessments)", ["question", "carers"],
                       [[q, n] for q, n in sorted(((q, n) for q, n in stops.items() if n), key=lambda qn: -qn[1])])

    groups: dict[tuple[str, str], list[float]] = {}
    for h in session.scalars(select(Handoff).where(Handoff.created_at >= start, Handoff.created_at < end)):
        waited = _minutes(h.created_at, h.claimed_at or now)
        groups.setdefault((h.reason, h.urgency), []).append(waited)
    handoffs = Table("handoffs", "Handoffs by reason and urgency", ["reason", "urgency", "handoffs",
                                                                     "median_wait_minutes", "longest_wait_minutes"],
                     [[r, u, len(w), round(statistics.median(w), 1), round(max(w), 1)]
                      for (r, u), w in sorted(groups.items())])

    delivery_rows = session.execute(
        select(Message.channel, Message.delivery_status, func.count())
        .where(Message.direction == Direction.OUT, Message.created_at >= start, Message.created_at < end,
               # Staff alerts are not carers' reach.
               Message.state.in_((MessageState.SENT, MessageState.FAILED)),
               Message.channel.not_in(outbox.STAFF_CHANNELS))
        .group_by(Message.channel, Message.delivery_status)).all()
    chans: dict[str, list[int]] = {}
    for channel, status, count in delivery_rows:
        row = chans.setdefault(channel, [0, 0, 0])
        row[0] += count
        if status in ("delivered", "read"):
            row[1] += count
        elif status in ("failed", "undelivered") or status is None:
            row[2] += count
    delivery = Table("delivery", "Delivery rate by channel", ["channel", "sent", "delivered", "failed",
                                                              "delivery_rate_percent"],
                     [[c, s, d, f, round(100 * d / s, 1) if s else 0.0] for c, (s, d, f) in sorted(chans.items())])

    outs: dict[str, int] = {}
    opted_out = select(Carer.opted_out_at).where(Carer.opted_out_at >= start, Carer.opted_out_at < end)
    for when in session.scalars(opted_out):
        assert when is not None  # the range leaves out carers who never opted out
        outs[_week(when)] = outs.get(_week(when), 0) + 1
    opt_outs = Table("opt_outs", "Opt-outs per week", ["week", "opt_outs"], [[w, n] for w, n in sorted(outs.items())])

    return {"weekly": weekly, "stops": stop_table, "handoffs": handoffs, "delivery": delivery, "opt_outs": opt_outs,
            "median_days_to_complete": round(statistics.median(durations), 1) if durations else None,
            "completed": len(durations)}
