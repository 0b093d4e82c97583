"""The stand-in's Content API accepts what Twilio's spec and documentation accept, and sends Content as Twilio does."""

from __future__ import annotations

import json
import re

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentList

from standin import StandinHandle
from standin import spec as twilio_spec

WA_CARER = "whatsapp:+447700900123"
WA_FROM = "whatsapp:+447700900000"
QUICK = {"body": "{{1}}", "actions": [{"type": "QUICK_REPLY", "title": "Yes", "id": "1"},
                                      {"type": "QUICK_REPLY", "title": "No", "id": "2"}]}
PICKER = {"body": "{{1}}", "button": "See the choices",
          "items": [{"item": f"Choice {i}", "id": str(i), "description": f"Option {i}"} for i in range(1, 5)]}


@pytest.fixture
def client(standin: StandinHandle) -> Client:
    twilio = Client(standin.account_sid, standin.auth_token)
    twilio.api.base_url = standin.url
    twilio.content.base_url = standin.url
    return twilio


def create(client: Client, types: dict, name: str = "choices", variables: dict | None = None):
    request = ContentList.ContentCreateRequest({"friendly_name": name, "language": "en",
                                                "variables": variables or {"1": "Please choose one."},
                                                "types": types})
    return client.content.v1.contents.create(request)


def post(standin: StandinHandle, doc: dict) -> requests.Response:
    return requests.post(standin.url + "/v1/Content", json=doc, auth=(standin.account_sid, standin.auth_token),
                         timeout=5)


def test_real_client_creates_and_the_resource_matches_the_spec(client: Client, standin: StandinHandle) -> None:
    made = create(client, {"twilio/quick-reply": QUICK})
    assert re.fullmatch(r"HX[0-9a-f]{32}", made.sid)
    assert (made.friendly_name, made.language, made.types) == ("choices", "en", {"twilio/quick-reply": QUICK})
    schema = twilio_spec.content_schema(twilio_spec.load_spec(str(twilio_spec.default_content_spec_path())))
    fetched = requests.get(f"{standin.url}/v1/Content/{made.sid}", auth=(standin.account_sid, standin.auth_token),
                           timeout=5).json()
    assert set(fetched) == set(schema["properties"])
    assert twilio_spec.schema_errors(fetched, schema) == []


def test_the_list_pages_as_twilio_does(client: Client) -> None:
    sids = [create(client, {"twilio/quick-reply": QUICK}, name=f"c{i}").sid for i in range(5)]
    assert [c.sid for c in client.content.v1.contents.stream(page_size=2)] == sids


@pytest.mark.parametrize("types, problem", [
    ({"twilio/quick-reply": {**QUICK, "actions": []}}, "1 to 10 buttons"),
    ({"twilio/quick-reply": {**QUICK, "body": "x" * 1025}}, "longer than 1024"),
    ({"twilio/list-picker": {**PICKER, "items": PICKER["items"] * 3}}, "1 to 10 items"),
    ({"twilio/list-picker": {**PICKER, "items": [{"item": "x" * 25, "id": "1", "description": "d"}]}},
     "longer than 24"),
    ({"twilio/list-picker": {**PICKER, "items": [{"item": "x", "id": "1"}]}}, "description"),
    ({"twilio/list-picker": {**PICKER, "button": ""}}, "button: empty"),
    ({"twilio/quick-reply": {**QUICK, "colour": "red"}}, "Additional properties"),  # the spec: closed
    ({"twilio/buttons": QUICK}, "Additional properties"),  # not a content type
    ({"twilio/quick-reply": {"actions": QUICK["actions"]}}, "'body' is a required property"),
    ({}, "no content type"),
])
def test_content_twilio_would_refuse_is_refused(standin: StandinHandle, types, problem) -> None:
    answer = post(standin, {"friendly_name": "x", "language": "en", "types": types})
    assert answer.status_code == 400
    body = answer.json()
    assert (body["code"], set(body)) == (70002, {"code", "message", "more_info", "status"})
    assert problem in body["message"]
    assert standin.state.contents == {}


def test_create_needs_the_account(standin: StandinHandle) -> None:
    answer = requests.post(standin.url + "/v1/Content", json={"language": "en", "types": {}},
                           auth=(standin.account_sid, "wrong"), timeout=5)
    assert (answer.status_code, answer.json()["code"]) == (401, 20003)


def test_a_send_renders_the_content_with_its_variables(client: Client, standin: StandinHandle) -> None:
    made = create(client, {"twilio/list-picker": PICKER})
    sent = client.messages.create(to=WA_CARER, from_=WA_FROM, content_sid=made.sid,
                                  content_variables=json.dumps({"1": "Can you manage?"}))
    assert sent.body == "Can you manage?"
    fallback = client.messages.create(to=WA_CARER, from_=WA_FROM, content_sid=made.sid)
    assert fallback.body == "Please choose one."  # the Content's default when a send leaves a variable out


@pytest.mark.parametrize("variables", ['{"1": ""}', '{"1": null}', "not json", '["a"]'])
def test_invalid_content_variables_are_21656(client: Client, variables) -> None:
    made = create(client, {"twilio/quick-reply": QUICK})
    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to=WA_CARER, from_=WA_FROM, content_sid=made.sid, content_variables=variables)
    assert refused.value.code == 21656


def test_whatsapp_session_limits_are_checked_at_send(client: Client) -> None:
    four = {**QUICK, "actions": [{"type": "QUICK_REPLY", "title": f"Choice {i}", "id": str(i)} for i in range(4)]}
    made = create(client, {"twilio/quick-reply": four})  # Twilio takes up to 10; WhatsApp in a session, 3
    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to=WA_CARER, from_=WA_FROM, content_sid=made.sid, content_variables='{"1": "Q"}')
    assert refused.value.code == 70002 and "3 quick-reply buttons" in str(refused.value.msg)


def test_content_made_here_has_no_approval_so_needs_the_window(client: Client, standin: StandinHandle) -> None:
    made = create(client, {"twilio/quick-reply": QUICK})
    standin.set_faults(window_closed=[WA_CARER], window_mode="create")
    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to=WA_CARER, from_=WA_FROM, content_sid=made.sid, content_variables='{"1": "Q"}')
    assert refused.value.code == 63016
    # A Content the stand-in did not make stands for an approved template, as before.
    sent = client.messages.create(to=WA_CARER, from_=WA_FROM, content_sid="HX" + "b" * 32,
                                  content_variables='{"1": "Sam"}')
    assert sent.status == "queued"
