"""Exports: JSON, FHIR R4 Questionnaire and QuestionnaireResponse (validated by fhir.resources), the short copy."""

from __future__ import annotations

import json

import pytest

from bot.duty.assessment import (assessment_record, fhir_questionnaire, fhir_questionnaire_response, load_questions,
                            short_copy, to_json)
from bot.catalogue import is_gsm7, segments
from tests.bot.duty.test_assessment_record import conversation_id, db  # noqa: F401  (fixtures)


@pytest.fixture
def record(db, conversation_id):  # noqa: F811
    with db.session() as s:
        return assessment_record(s, conversation_id)


def test_json_round_trips(record):
    assert json.loads(to_json(record)) == json.loads(json.dumps(record))


def test_questionnaire_has_every_question_with_its_tags():
    q = fhir_questionnaire()
    items = {i["linkId"]: i for group in q["item"] for i in group["item"]}
    assert set(items) == {x["id"] for x in load_questions()}
    assert items["hours_week"]["type"] == "integer" and items["lives_with"]["type"] == "boolean"
    assert {c["code"] for c in items["recreation"]["code"]} >= {"reg3_recreation"}
    # The reg 3(3) readings of "unable", so the worksheet can tell them apart.
    assert [o["valueCoding"]["code"] for o in items["home"]["answerOption"]] == [
        "fine", "with_help", "distress", "at_risk", "cannot"]


def test_response_validates_and_matches_the_questionnaire(record):
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    r = fhir_questionnaire_response(record)
    QuestionnaireResponse.model_validate(r)  # valid again after a JSON round trip
    assert r["status"] == "completed" and r["questionnaire"].startswith(fhir_questionnaire()["url"])
    items = {i["linkId"]: i for group in r["item"] for i in group["item"]}
    assert items["hours_week"]["answer"] == [{"valueInteger": 60}]
    assert items["recreation"]["answer"][0]["valueCoding"]["code"] == "cannot"
    assert "answer" not in items["nights"]  # skipped: asked, no answer
    assert "name" not in items  # never asked


def test_short_copy_is_gsm7_and_two_segments_even_with_long_emoji_words(record):
    text = short_copy(record)
    assert "my mum" in text and "60 hours" in text and "time for you" in text and "a break" in text
    long = json.loads(json.dumps(record))
    for a in long["answers"]:
        if a["question_id"] in ("cared_for_who", "what_would_help"):
            a["raw"] = "my mum 😢 who has dementia and \u2018needs\u2019 everything done " * 8
    text = short_copy(long)
    assert is_gsm7(text) and segments(text) <= 2
