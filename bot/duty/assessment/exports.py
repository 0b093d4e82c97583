"""Exports of an assessment record: JSON, FHIR R4 Questionnaire + QuestionnaireResponse, the carer's short copy.

FHIR: fhir.resources 8 ships R5 by default and no R4 package; its R4B models (FHIR 4.3) are used, since
Questionnaire and QuestionnaireResponse are unchanged from R4 to R4B, so what validates here is valid R4.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.duty.assessment.record import load_questions
from bot.catalogue import Catalogue, default_catalogue, segments

QUESTIONNAIRE_URL = "https://carertext.org.uk/fhir/Questionnaire/carers-assessment"
QUESTIONNAIRE_VERSION = "1"
SERVES_SYSTEM = "https://carertext.org.uk/fhir/CodeSystem/care-act-duty"
CHOICE_SYSTEM = "https://carertext.org.uk/fhir/CodeSystem/answer"
FHIR_TYPE = {"free_text": "text", "yes_no": "boolean", "number": "integer", "scale": "integer",
             "choice": "choice"}


def to_json(record: dict[str, Any]) -> str:
    """The record as JSON (UTF-8 text), keys sorted so two exports of one record compare equal."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True, indent=2)


def _validated(resource_type: str, data: dict[str, Any]) -> dict[str, Any]:
    if resource_type == "Questionnaire":
        from fhir.resources.R4B.questionnaire import Questionnaire

        checked = Questionnaire.model_validate(data).model_dump_json(exclude_none=True)
    else:
        from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

        checked = QuestionnaireResponse.model_validate(data).model_dump_json(exclude_none=True)
    resource: dict[str, Any] = json.loads(checked)
    return resource


def fhir_questionnaire(catalogue: Catalogue | None = None, language: str = "en") -> dict[str, Any]:
    """The questions as a FHIR R4 Questionnaire (validated), one group per section, tags as item codes."""
    cat = catalogue or default_catalogue()
    groups: dict[str, list[dict[str, Any]]] = {}
    for q in load_questions():
        item: dict[str, Any] = {
            "linkId": q["id"], "text": cat.text(f"q.{q['id']}", language), "type": FHIR_TYPE[q["type"]],
            "required": False,
            "code": [{"system": SERVES_SYSTEM, "code": tag} for tag in q.get("serves") or []],
        }
        if q["type"] == "choice":
            item["answerOption"] = [{"valueCoding": {"system": CHOICE_SYSTEM, "code": c.split(".", 1)[1],
                                                     "display": cat.text(c, language)}}
                                    for c in q.get("choices") or []]
        groups.setdefault(q["section"], []).append(item)
    data = {
        "resourceType": "Questionnaire", "url": QUESTIONNAIRE_URL, "version": QUESTIONNAIRE_VERSION,
        "name": "CarerTextCarersAssessment", "title": "CarerText carer's assessment (Care Act 2014 s.10)",
        "status": "active", "subjectType": ["Person"], "language": language,
        "item": [{"linkId": section, "type": "group", "text": section.replace("_", " "), "item": items}
                 for section, items in groups.items()],
    }
    return _validated("Questionnaire", data)


def _fhir_answer(q: dict[str, Any], a: dict[str, Any]) -> list[dict[str, Any]]:
    value = a["value"]
    if a["status"] in ("skipped", "not_asked") or value is None:
        return [{"valueString": a["raw"]}] if a["status"] == "unclear" and a["raw"] and q["type"] == "free_text" else []
    kind = q["type"]
    if kind == "yes_no":
        return [{"valueBoolean": value == "yes"}] if value in ("yes", "no") else []
    if kind in ("number", "scale"):
        return [{"valueInteger": int(round(float(value)))}]
    if kind == "choice":
        return [{"valueCoding": {"system": CHOICE_SYSTEM, "code": str(value)}}]
    return [{"valueString": str(value)}]


def fhir_questionnaire_response(record: dict[str, Any]) -> dict[str, Any]:
    """The carer's answers as a FHIR R4 QuestionnaireResponse (validated) for the Questionnaire above."""
    questions = {q["id"]: q for q in load_questions()}
    groups: dict[str, list[dict[str, Any]]] = {}
    for a in record["answers"]:
        if not a["asked"]:
            continue
        item: dict[str, Any] = {"linkId": a["question_id"]}
        answer = _fhir_answer(questions[a["question_id"]], a)
        if answer:
            item["answer"] = answer
        groups.setdefault(a["section"], []).append(item)
    data = {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": "https://carertext.org.uk/fhir/conversation", "value": str(record["conversation_id"])},
        "questionnaire": f"{QUESTIONNAIRE_URL}|{QUESTIONNAIRE_VERSION}",
        "status": "completed" if record["status"] == "completed" else "in-progress",
        "authored": record["completed_at"] or record["started_at"],
        "item": [{"linkId": section, "item": items} for section, items in groups.items()],
    }
    if not data["authored"]:
        del data["authored"]
    return _validated("QuestionnaireResponse", data)


GSM_REPLACE = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}


def _plain(words: object, limit: int) -> str:
    """Carer words made GSM-7-safe and short: curly quotes straightened, emoji and the like dropped."""
    from bot.catalogue import GSM7_BASIC

    text = "".join(GSM_REPLACE.get(c, c) for c in str(words or ""))
    # The basic set only: an extension character costs two, and line breaks would split the copy's lines.
    text = "".join(c for c in text if c in GSM7_BASIC and c not in "\n\r")
    text = re.sub(r"\s+", " ", text).strip(" .,;")
    return text if len(text) <= limit else text[: max(limit - 3, 0)].rstrip() + "..."


# Outcome answers short of "no problem" (questions.yml asks the follow-ups after the same ones).
SHORT_OF_FINE = ("with_help", "distress", "at_risk", "cannot", "hard")
HARD_AREAS = {"child_care": "children", "caring_for_others": "caring for others", "home": "home",
              "nutrition": "meals", "relationships": "family and friends", "work_impact": "work",
              "community": "getting out", "recreation": "time for you"}


def short_copy(record: dict[str, Any], catalogue: Catalogue | None = None, language: str = "en",
               max_segments: int = 2) -> str:
    """The short copy the carer gets at the end: who they care for, hours, what is hard, what would help.

    Always GSM-7 and at most `max_segments` SMS segments: the carer's own words are trimmed to fit.
    """
    cat = catalogue or default_catalogue()
    a = {x["question_id"]: x for x in record["answers"]}

    def said(qid: str) -> str:
        x = a.get(qid) or {}
        return str(x["raw"]) if x.get("status") in ("answered", "changed") and x.get("raw") else ""

    hours = (a.get("hours_week") or {}).get("value")
    hard = [label for qid, label in HARD_AREAS.items()
            if (a.get(qid) or {}).get("value") in SHORT_OF_FINE]
    variables = {
        "who": said("cared_for_who") or "-",
        "hours": str(int(hours)) if isinstance(hours, (int, float)) else "-",
        "hard": ", ".join(hard) or "-",
        "help": said("what_would_help") or "-",
    }
    limits = {"who": 40, "hard": 80, "help": 90}
    while True:
        vs = {k: _plain(v, limits.get(k, 10)) or "-" for k, v in variables.items()}
        body = cat.text("copy.short", language, **vs)
        if segments(body) <= max_segments or all(n <= 8 for n in limits.values()):
            return body
        longest = max(limits, key=lambda k: min(limits[k], len(vs[k])))
        limits[longest] = max(8, min(limits[longest], len(vs[longest])) - 10)
