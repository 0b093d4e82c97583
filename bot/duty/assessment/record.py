"""One conversation's answers, joined with the questions (questions.yml): what was asked, why, and what was said."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.timing.clock import as_utc
from bot.config import ROOT
from bot.models import Answer, Carer, Conversation

QUESTIONS_FILE = ROOT / "rasa_project" / "actions" / "questions.yml"


@lru_cache(maxsize=4)
def load_questions(path: Path = QUESTIONS_FILE) -> tuple[dict[str, Any], ...]:
    """The questions in the order they are asked, each with its section."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return tuple(dict(q, section=section["id"]) for section in data["sections"] for q in section["questions"])


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None


def assessment_record(session: Session, conversation_id: int) -> dict[str, Any]:
    """The assessment as a dict: every question in order with its current answer, tags and history."""
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise LookupError(f"no conversation {conversation_id}")
    carer = session.get(Carer, conv.carer_id)
    rows = session.scalars(select(Answer).where(Answer.conversation_id == conversation_id)
                           .order_by(Answer.answered_at, Answer.id)).all()
    by_question: dict[str, list[Answer]] = {}
    for row in rows:
        by_question.setdefault(row.question_id, []).append(row)

    consent = by_question.get("consent") or []
    answers = []
    for q in load_questions():
        history = by_question.get(q["id"]) or []
        current = history[-1] if history else None
        answers.append({
            "question_id": q["id"],
            "section": q["section"],
            "text_key": f"q.{q['id']}",
            "type": q["type"],
            "serves": list(q.get("serves") or []),
            "asked": current is not None,
            "value": current.value if current else None,
            "raw": current.raw if current else None,
            "status": current.status if current else "not_asked",
            "skipped": bool(current and current.status == "skipped"),
            "unclear": bool(current and current.status == "unclear"),
            "changed": bool(current and (current.status == "changed" or len(history) > 1)),
            "answered_at": _iso(current.answered_at) if current else None,
            "history": [{"value": h.value, "raw": h.raw, "status": h.status, "answered_at": _iso(h.answered_at)}
                        for h in history[:-1]],
        })
    coverage: dict[str, list[str]] = {}
    for a in answers:
        for tag in a["serves"]:
            coverage.setdefault(tag, [])
            if a["asked"] and a["status"] not in ("skipped", "unclear"):
                coverage[tag].append(a["question_id"])
    return {
        "conversation_id": conv.id,
        "carer": carer.public_id if carer else None,
        "language": carer.language if carer else "en",
        "status": conv.assessment_status,
        "started_at": _iso(conv.started_at),
        "completed_at": _iso(conv.completed_at),
        "consent": {"given": bool(consent and consent[-1].value), "at": _iso(consent[-1].answered_at)} if consent
        else {"given": False, "at": None},
        "answers": answers,
        "coverage": coverage,
    }
