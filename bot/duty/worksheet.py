"""A draft eligibility worksheet (SI 2015/313 reg 3) from a carer's answers; a worker decides, never this."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import ROOT
from bot.models import Answer

QUESTIONS_FILE = ROOT / "rasa_project" / "actions" / "questions.yml"

# The eight outcomes of reg 3(2)(b), in the regulation's order, keyed by the `serves:` tag.
OUTCOMES = [
    ("reg3_child_care", "(i) Carrying out caring responsibilities for a child"),
    ("reg3_caring_for_others", "(ii) Providing care to other persons"),
    ("reg3_home", "(iii) Maintaining a habitable home environment"),
    ("reg3_nutrition", "(iv) Managing and maintaining nutrition"),
    ("reg3_relationships", "(v) Developing and maintaining family or other personal relationships"),
    ("reg3_work_training", "(vi) Engaging in work, training, education or volunteering"),
    ("reg3_community", "(vii) Using necessary facilities or services in the local community"),
    ("reg3_recreation", "(viii) Engaging in recreational activities"),
]
# Reg 3(3): "unable" includes only with assistance, only with significant pain, distress or anxiety, and only
# in a way that endangers the carer or others. Whether pain or stress is significant is a person's check, and
# so is "hard", which answers given before the outcomes were split stored.
CHOICE_SUGGESTS = {"cannot": "unable", "with_help": "unable", "at_risk": "unable", "distress": "check",
                   "hard": "check", "fine": "able", "not_apply": "not_applicable", "gave_up": "unable"}
# What the worker reads beside a suggestion: which limb of reg 3(3) the carer's answer points to.
CHOICE_WHY = {"cannot": "cannot achieve it", "with_help": "only with help (reg 3(3)(a))",
              "distress": "only with pain, stress or worry: check it is significant (reg 3(3)(b))",
              "at_risk": "only at a risk to the carer or others (reg 3(3)(c))",
              "hard": "hard: check for significant distress", "gave_up": "gave up work to care"}
UNCLEAR = "unclear"
SCALE_AT_RISK = 4  # 4 or 5 of 5: caring affects health "a lot"


@dataclass
class Evidence:
    """One answer quoted as evidence: the question, the value and the carer's own words."""

    question_id: str
    value: Any
    raw: str | None
    status: str = "answered"  # unclear: the bot could not read it; the carer's words are all there is

    @property
    def unclear(self) -> bool:
        return self.status == UNCLEAR


@dataclass
class OutcomeLine:
    tag: str
    title: str
    suggestion: str  # unable, check, able, not_applicable, unclear, no_answer
    evidence: list[Evidence] = field(default_factory=list)
    why: list[str] = field(default_factory=list)


@dataclass
class Condition:
    title: str
    suggestion: str  # likely_met, check, likely_not_met, no_answer
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Worksheet:
    conditions: list[Condition]
    outcomes: list[OutcomeLine]

    @property
    def outcomes_unable(self) -> list[OutcomeLine]:
        return [o for o in self.outcomes if o.suggestion == "unable"]


def load_questions(path: Path = QUESTIONS_FILE) -> dict[str, dict[str, Any]]:
    """Question id -> its definition (type, serves); empty if the file is missing or being rewritten."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    questions: dict[str, dict[str, Any]] = {}
    for section in data.get("sections") or []:
        for q in section.get("questions") or []:
            if isinstance(q, dict) and q.get("id"):
                questions[str(q["id"])] = q
    return questions


def current_answers(session: Session, conversation_id: int) -> dict[str, Answer]:
    """The latest answer to each question (a changed answer replaces the earlier one); unclear ones too."""
    latest: dict[str, Answer] = {}
    for answer in session.scalars(select(Answer).where(Answer.conversation_id == conversation_id)
                                  .order_by(Answer.id)):
        if answer.status in ("answered", "changed", UNCLEAR):
            latest[answer.question_id] = answer
        elif answer.status == "skipped":
            latest.pop(answer.question_id, None)
    return latest


def _evidence(answer: Answer) -> Evidence:
    return Evidence(answer.question_id, answer.value, answer.raw, answer.status or "answered")


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def draft(answers: dict[str, Answer], questions: dict[str, dict[str, Any]]) -> Worksheet:
    """Suggest, for each reg 3 condition and outcome, what the answers point to, quoting the carer."""
    by_tag: dict[str, list[Answer]] = {}
    for qid, answer in answers.items():
        for tag in (questions.get(qid) or {}).get("serves") or []:
            by_tag.setdefault(tag, []).append(answer)

    outcomes = []
    for tag, title in OUTCOMES:
        found = by_tag.get(tag, [])
        chosen = [a for a in found if a.status != UNCLEAR and a.value in CHOICE_SUGGESTS
                  and (questions.get(a.question_id) or {}).get("type") == "choice"]
        graded = [CHOICE_SUGGESTS[a.value] for a in chosen if a.value is not None]
        why = list(dict.fromkeys(CHOICE_WHY[a.value] for a in chosen if a.value in CHOICE_WHY))
        if any(a.status == UNCLEAR for a in found):
            why.append("an answer was unclear: check with the carer")
        if "unable" in graded:
            suggestion = "unable"
        elif "check" in graded:
            suggestion = "check"
        elif graded and all(g == "not_applicable" for g in graded):
            suggestion = "not_applicable"
        elif graded:
            suggestion = "able"
        elif any(a.status == UNCLEAR for a in found):
            suggestion = UNCLEAR  # never dropped: the worker reads the carer's words and asks
        else:
            suggestion = "no_answer"
        outcomes.append(OutcomeLine(tag, title, suggestion, [_evidence(a) for a in found], why))

    caring = [answers[q] for q in ("cared_for_who", "cared_for_needs", "caring_tasks", "hours_week") if q in answers]
    hours = _number(answers["hours_week"].value) if "hours_week" in answers else None
    c1 = "likely_met" if caring and (hours is None or hours > 0) else ("check" if caring else "no_answer")

    health = by_tag.get("reg3_health", [])
    at_risk = any((n := _number(a.value)) is not None and n >= SCALE_AT_RISK for a in health
                  if (questions.get(a.question_id) or {}).get("type") == "scale")
    broken_nights = any(a.question_id == "nights" and a.value == "yes" for a in health)
    unable = [o for o in outcomes if o.suggestion == "unable"]
    checks = [o for o in outcomes if o.suggestion in ("check", UNCLEAR)]
    if at_risk or unable:
        c2 = "likely_met"
    elif broken_nights or checks:
        c2 = "check"
    else:
        c2 = "likely_not_met" if health or any(o.suggestion != "no_answer" for o in outcomes) else "no_answer"
    c2_evidence = [_evidence(a) for a in health] + [e for o in unable + checks for e in o.evidence]

    wellbeing = by_tag.get("s10_5_wellbeing", [])
    signs = int(at_risk) + int(broken_nights) + len(unable) + int(hours is not None and hours >= 35)
    willing = answers.get("willing_to_continue")
    if willing is not None and willing.value in ("no", "not_sure", "no_choice"):
        signs += 1
    c3 = "likely_met" if signs >= 2 else ("check" if signs == 1 or checks else
                                         ("likely_not_met" if wellbeing else "no_answer"))
    c3_evidence = [_evidence(a) for a in wellbeing if a.raw] + ([_evidence(willing)] if willing is not None else [])

    conditions = [
        Condition("1. The needs arise from providing necessary care to an adult", c1, [_evidence(a) for a in caring]),
        Condition("2. The carer's health is, or is at risk of, deteriorating, or the carer is unable to "
                  "achieve one or more of the outcomes below", c2, _dedupe(c2_evidence)),
        Condition("3. As a consequence there is, or is likely to be, a significant impact on the carer's "
                  "well-being", c3, _dedupe(c3_evidence)),
    ]
    return Worksheet(conditions, outcomes)


def _dedupe(items: list[Evidence]) -> list[Evidence]:
    seen, kept = set(), []
    for e in items:
        if e.question_id not in seen:
            seen.add(e.question_id)
            kept.append(e)
    return kept


def for_conversation(session: Session, conversation_id: int) -> Worksheet:
    """The draft worksheet for one conversation's answers."""
    return draft(current_answers(session, conversation_id), load_questions())
