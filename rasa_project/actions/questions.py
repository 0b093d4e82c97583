"""Load the assessment questions (questions.yml) and answer the questions about them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import yaml

QUESTIONS_FILE = Path(__file__).with_name("questions.yml")


@lru_cache(maxsize=1)
def load() -> dict:
    """Return {'sections': [...], 'questions': {id: q}, 'order': [ids]} with each q's section set."""
    data = yaml.safe_load(QUESTIONS_FILE.read_text(encoding="utf-8"))
    questions, order = {}, []
    for section in data["sections"]:
        for q in section["questions"]:
            q = dict(q, section=section["id"])
            questions[q["id"]] = q
            order.append(q["id"])
    return {"sections": [s["id"] for s in data["sections"]], "questions": questions, "order": order}


def question(qid: str) -> dict:
    return load()["questions"][qid]


def order() -> list[str]:
    return load()["order"]


def sections() -> list[str]:
    return load()["sections"]


def _value(answers: dict, qid: str) -> Any:
    a = answers.get(qid) or {}
    return a.get("value")


def applies(qid: str, answers: dict) -> bool:
    """Return True when the question's ask_if (if any) holds for the answers so far."""
    cond = question(qid).get("ask_if")
    if not cond:
        return True
    if "in" in cond:
        return all(_value(answers, k) in v for k, v in cond["in"].items())
    if "any_in" in cond:
        return any(_value(answers, k) in v for k, v in cond["any_in"].items())
    if "any_at_least" in cond:
        return any(isinstance(_value(answers, k), (int, float)) and _value(answers, k) >= v
                   for k, v in cond["any_at_least"].items())
    return True


def next_after(qid: Optional[str], answers: dict) -> Optional[str]:
    """Return the next question to ask after qid (None means the first), or None at the end."""
    ids = order()
    start = 0 if qid is None else ids.index(qid) + 1
    for candidate in ids[start:]:
        if applies(candidate, answers):
            return candidate
    return None


def previous_before(qid: Optional[str], answers: dict) -> Optional[str]:
    """Return the latest question before qid that the carer was asked."""
    ids = order()
    end = len(ids) if qid is None else ids.index(qid)
    for candidate in reversed(ids[:end]):
        if candidate in answers:
            return candidate
    return None


def find_by_words(text: str, exclude: Optional[str] = None, among=None) -> Optional[str]:
    """Return the question a carer names ('change my hours'), by its keywords; longest match wins."""
    from .parsing import normalise, _has

    t = normalise(text)
    best = None
    for qid in order():
        if qid == exclude or (among is not None and qid not in among):
            continue
        for kw in question(qid).get("keywords", []):
            if _has(t, [kw]) and (best is None or len(kw) > best[1]):
                best = (qid, len(kw))
    return best[0] if best else None


def choices_for(qid: str) -> list[str]:
    return list(question(qid).get("choices", []))


# The reg 3 outcome values: one check sentence each serves every outcome question.
OUTCOME_VALUES = ("fine", "with_help", "distress", "at_risk", "cannot", "not_apply")


def confirm_key(qid: str, value: Any) -> tuple[str, Optional[dict]]:
    """The catalogue key (and variables) of "So ..., is that right?" for a reading of this question."""
    kind = question(qid)["type"]
    if kind in ("number", "scale"):
        n = int(value) if float(value).is_integer() else value
        return ("confirm.scale" if kind == "scale" else f"q.{qid}.confirm"), {"n": n}
    if kind == "yes_no":
        return f"confirm.{value}", None
    if value in OUTCOME_VALUES:
        return f"confirm.{value}", None
    return f"q.{qid}.confirm.{value}", None


def confirm_keys(qid: str) -> list[str]:
    """Every check sentence a reading of this question can need."""
    kind = question(qid)["type"]
    if kind == "choice":
        return [confirm_key(qid, c.split(".", 1)[1])[0] for c in choices_for(qid)]
    if kind == "yes_no":
        return ["confirm.yes", "confirm.no"]
    if kind in ("number", "scale"):
        return [confirm_key(qid, 1)[0]]
    return []
