"""The stand-in accepts what Twilio's spec accepts and rejects what it rejects."""

from __future__ import annotations

import re
import threading
import time

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from standin import StandinHandle
from standin import spec as twilio_spec

CARER = "+447700900123"
SMS_FROM = "+447700900000"
MG = "MG" + "a" * 32
HX = "HX" + "b" * 32


def post(standin: StandinHandle, data: dict | list, path: str = "") -> requests.Response:
    path = path or f"/2010-04-01/Accounts/{standin.account_sid}/Messages.json"
    return requests.post(standin.url + path, data=data, auth=(standin.account_sid, standin.auth_token), timeout=5)


def message_schema() -> dict:
    return twilio_spec.message_schema(twilio_spec.load_spec(str(twilio_spec.default_spec_path())))


def test_real_client_sends_and_fetches(client: Client, standin: StandinHandle) -> None:
    sent = client.messages.create(to=CARER, from_=SMS_FROM, body="Hello")
    assert re.fullmatch(r"SM[0-9a-f]{32}", sent.sid)
    assert (sent.status, sent.to, sent.num_segments, sent.direction) == ("queued", CARER, "1", "outbound-api")
    assert client.messages(sent.sid).fetch().sid == sent.sid
    assert [m["sid"] for m in standin.messages(to=CARER)] == [sent.sid]
    assert [r.verdict for r in standin.state.requests] == ["accepted", "read"]


def test_created_and_fetched_resources_validate_against_the_spec(standin: StandinHandle) -> None:
    schema = message_schema()
    created = post(standin, {"To": "whatsapp:" + CARER, "MessagingServiceSid": MG, "Body": "Hi 😀",
                             "StatusCallback": "http://127.0.0.1:9/status"})
    assert created.status_code == 201
    body = created.json()
    assert set(body) == set(schema["properties"])
    assert twilio_spec.schema_errors(body, schema) == []
    fetched = requests.get(standin.url + body["uri"], auth=(standin.account_sid, standin.auth_token), timeout=5)
    assert twilio_spec.schema_errors(fetched.json(), schema) == []


def test_long_unicode_body_counts_ucs2_segments(client: Client) -> None:
    assert client.messages.create(to=CARER, from_=SMS_FROM, body="’" * 71).num_segments == "2"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"From": SMS_FROM, "Body": "x"}, 21604),  # the spec: To is required
        ({"To": CARER, "MessagingServiceSid": "MG123", "Body": "x"}, 70002),  # pattern ^MG[0-9a-fA-F]{32}$
        ({"To": CARER, "From": SMS_FROM, "ContentSid": "HXnothex", "Body": "x"}, 70002),
        ({"To": CARER, "From": SMS_FROM, "Body": "x", "Colour": "red"}, 70002),  # unknown property
        ({"To": CARER, "From": SMS_FROM, "Body": "x", "Attempt": "twice"}, 70002),  # integer
        ({"To": CARER, "From": SMS_FROM, "Body": "x", "ScheduleType": "later"}, 70002),  # enum
        ({"To": CARER, "From": SMS_FROM, "Body": "x", "SmartEncoded": "maybe"}, 70002),  # boolean
        ([("To", CARER), ("To", "+447700900124"), ("From", SMS_FROM), ("Body", "x")], 70002),
        ({"To": CARER, "Body": "x"}, 21603),  # From or MessagingServiceSid
        ({"To": CARER, "From": SMS_FROM}, 21619),  # one of Body, MediaUrl, ContentSid
        ({"To": CARER, "From": SMS_FROM, "Body": "x" * 1601}, 21617),
        ({"To": "07700 900123", "From": SMS_FROM, "Body": "x"}, 21211),
        ({"To": CARER, "From": "not a sender!", "Body": "x"}, 21212),
    ],
)
def test_invalid_requests_are_rejected_in_twilio_shape(standin: StandinHandle, data, code: int) -> None:
    answer = post(standin, data)
    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == {"code", "message", "more_info", "status"}
    assert (body["code"], body["status"]) == (code, 400)
    assert standin.messages() == []
    assert standin.state.requests[-1].verdict == "rejected"


@pytest.mark.parametrize(
    "data",
    [
        {"To": CARER, "From": SMS_FROM, "Body": "x" * 1600},
        {"To": CARER, "MessagingServiceSid": MG, "Body": "x"},
        {"To": "whatsapp:" + CARER, "From": "whatsapp:" + SMS_FROM, "ContentSid": HX,
         "ContentVariables": '{"1": "Sam"}'},
        [("To", CARER), ("From", SMS_FROM), ("MediaUrl", "https://example.com/a.png"),
         ("MediaUrl", "https://example.com/b.png")],
        {"To": CARER, "From": "CarerText", "Body": "x", "ValidityPeriod": "600", "SmartEncoded": "true"},
    ],
)
def test_valid_requests_are_accepted(standin: StandinHandle, data) -> None:
    answer = post(standin, data)
    assert answer.status_code == 201, answer.json()


def test_missing_to_through_the_client_raises_twilio_exception(client: Client) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to="", from_=SMS_FROM, body="x")
    assert (raised.value.status, raised.value.code) == (400, 21604)


def test_bad_messaging_service_sid_through_the_client(client: Client) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=CARER, messaging_service_sid="MGnot-a-sid", body="x")
    assert (raised.value.status, raised.value.code) == (400, 70002)


def test_wrong_auth_token_is_401_20003(standin: StandinHandle) -> None:
    client = Client(standin.account_sid, "wrong")
    client.api.base_url = standin.url
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=CARER, from_=SMS_FROM, body="x")
    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert standin.state.requests[-1].verdict == "unauthorized"


def test_account_sid_in_path_must_match(standin: StandinHandle) -> None:
    other = "AC" + "f" * 32
    answer = post(standin, {"To": CARER, "From": SMS_FROM, "Body": "x"},
                  path=f"/2010-04-01/Accounts/{other}/Messages.json")
    assert (answer.status_code, answer.json()["code"]) == (404, 20404)


def test_fetch_unknown_message_is_404(client: Client) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client.messages("SM" + "0" * 32).fetch()
    assert raised.value.status == 404


def test_wait_returns_when_enough_messages_exist(client: Client, standin: StandinHandle) -> None:
    def later() -> None:
        time.sleep(0.2)
        client.messages.create(to=CARER, from_=SMS_FROM, body="one")
        client.messages.create(to=CARER, from_=SMS_FROM, body="two")

    threading.Thread(target=later).start()
    answer = requests.get(f"{standin.url}/_standin/wait", params={"count": 2, "timeout": 5}, timeout=10)
    assert answer.status_code == 200
    assert [m["body"] for m in answer.json()] == ["one", "two"]


def test_wait_times_out_with_408(standin: StandinHandle) -> None:
    answer = requests.get(f"{standin.url}/_standin/wait", params={"count": 1, "timeout": 0.2}, timeout=5)
    assert answer.status_code == 408


def test_messages_filter_requests_log_and_reset(client: Client, standin: StandinHandle) -> None:
    client.messages.create(to=CARER, from_=SMS_FROM, body="a")
    client.messages.create(to="+447700900999", from_=SMS_FROM, body="b")
    listed = requests.get(f"{standin.url}/_standin/messages", params={"to": CARER}, timeout=5).json()
    assert [m["body"] for m in listed] == ["a"]
    logged = requests.get(f"{standin.url}/_standin/requests", timeout=5).json()
    assert [r["verdict"] for r in logged] == ["accepted", "accepted"]
    requests.post(f"{standin.url}/_standin/reset", timeout=5)
    assert requests.get(f"{standin.url}/_standin/messages", timeout=5).json() == []


def test_logs_carry_no_phone_numbers_or_text(client: Client, standin: StandinHandle, caplog) -> None:
    caplog.set_level("DEBUG")
    client.messages.create(to=CARER, from_=SMS_FROM, body="private words")
    requests.get(f"{standin.url}/_standin/messages", params={"to": CARER}, timeout=5)
    post(standin, {"To": CARER, "From": SMS_FROM})
    # Only the stand-in's own loggers: urllib3 on the client side logs query strings at DEBUG.
    ours = [r for r in caplog.records if r.name in {"standin", "werkzeug"}]
    text = "\n".join(r.getMessage() for r in ours)
    assert ours
    for secret in (CARER, CARER.lstrip("+"), "%2B447700900123", "private words"):
        assert secret not in text
