"""A worker reads a completed assessment as a printable summary and exports it as JSON and FHIR."""

from __future__ import annotations

import json

from fhir.resources.R4B.bundle import Bundle

from bot.duty import staff
from tests.bot.duty.test_handoff import make_worker, rasa_says, seed_case
from tests.webhooks.test_console import sign_in


def completed_case(services, phone, rasa) -> int:
    rasa_says(rasa,
              {"custom": {"event": "answer", "question": "consent", "value": True, "raw": "yes", "status": "answered"}},
              {"custom": {"event": "answer", "question": "hours_week", "value": 50, "raw": "about 50 hrs <b>a wk</b>",
                          "status": "answered"}},
              {"custom": {"event": "completed"}})
    return seed_case(services, phone, "that is everything")


def test_summary_shows_the_carers_words_escaped_and_is_audited(client, services, phone, rasa, app):
    handoff_id = completed_case(services, phone, rasa)
    make_worker(services)
    sign_in(client)
    page = client.get(f"/console/handoffs/{handoff_id}/assessment").get_data(as_text=True)
    assert "about 50 hrs &lt;b&gt;a wk&lt;/b&gt;" in page
    assert client.get(f"/console/handoffs/{handoff_id}").status_code == 200
    make_worker(services, "manager@council.example", role=staff.TEAM_MANAGER)
    manager = app.test_client()
    sign_in(manager, "manager@council.example")
    assert "view_assessment" in manager.get("/console/audit").get_data(as_text=True)


def test_exports_are_json_and_a_valid_fhir_bundle(client, services, phone, rasa):
    handoff_id = completed_case(services, phone, rasa)
    make_worker(services)
    sign_in(client)
    record = json.loads(client.get(f"/console/handoffs/{handoff_id}/assessment.json").get_data(as_text=True))
    hours = next(a for a in record["answers"] if a["question_id"] == "hours_week")
    assert hours["value"] == 50 and record["status"] == "completed"
    bundle = client.get(f"/console/handoffs/{handoff_id}/assessment.fhir.json").get_data(as_text=True)
    parsed = Bundle.model_validate_json(bundle)
    assert [e.resource.get_resource_type() for e in parsed.entry] == ["Questionnaire", "QuestionnaireResponse"]


def test_a_stranger_cannot_export(client, services, phone, rasa):
    handoff_id = completed_case(services, phone, rasa)
    assert client.get(f"/console/handoffs/{handoff_id}/assessment.json").status_code in (302, 401)
