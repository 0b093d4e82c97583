"""Each injected fault reaches twilio-python as TwilioRestException with Twilio's code and status."""

from __future__ import annotations

import time

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from standin import StandinHandle

CARER = "+447700900123"
SMS_FROM = "+447700900000"
WA_CARER = "whatsapp:" + CARER
WA_FROM = "whatsapp:" + SMS_FROM
HX = "HX" + "c" * 32


@pytest.mark.parametrize(
    ("faults", "to", "status", "code"),
    [
        ({"rate_limit": 1}, CARER, 429, 20429),
        ({"server_error": 1, "server_error_status": 500}, CARER, 500, 20500),
        ({"server_error": 1, "server_error_status": 503}, CARER, 503, 20503),
        ({"opted_out": [CARER]}, CARER, 400, 21610),
        ({"opted_out": [CARER]}, WA_CARER, 400, 21610),  # a bare number covers both channels
        ({"window_closed": [CARER], "window_mode": "create"}, WA_CARER, 400, 63016),
    ],
)
def test_fault_comes_back_as_twilio_exception(
    client: Client, standin: StandinHandle, faults: dict, to: str, status: int, code: int
) -> None:
    standin.set_faults(**faults)
    sender = WA_FROM if to.startswith("whatsapp:") else SMS_FROM
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=to, from_=sender, body="Hello")
    assert (raised.value.status, raised.value.code) == (status, code)
    assert standin.messages() == []
    assert standin.state.requests[-1].verdict == "fault"


def test_counted_faults_wear_off(client: Client, standin: StandinHandle) -> None:
    standin.set_faults(rate_limit=2)
    codes = []
    for _ in range(3):
        try:
            codes.append(client.messages.create(to=CARER, from_=SMS_FROM, body="x").status)
        except TwilioRestException as exc:
            codes.append(exc.code)
    assert codes == [20429, 20429, "queued"]


def test_accepted_anyway_stores_the_message_behind_a_5xx(client: Client, standin: StandinHandle) -> None:
    standin.set_faults(server_error=1, server_error_status=503, accepted_anyway=True)
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=CARER, from_=SMS_FROM, body="did it go?")
    assert raised.value.status == 503
    [stored] = standin.messages(to=CARER)
    # A careful sender can find out: the message exists and can be fetched by its sid.
    assert client.messages(stored["sid"]).fetch().body == "did it go?"
    assert standin.state.requests[0].verdict == "accepted-anyway"


def test_template_passes_a_closed_window(client: Client, standin: StandinHandle) -> None:
    standin.set_faults(window_closed=[WA_CARER], window_mode="create")
    sent = client.messages.create(to=WA_CARER, from_=WA_FROM, content_sid=HX, content_variables='{"1":"Sam"}')
    assert sent.status == "queued"


def test_closed_window_does_not_touch_sms(client: Client, standin: StandinHandle) -> None:
    standin.set_faults(window_closed=[CARER], window_mode="create")
    assert client.messages.create(to=CARER, from_=SMS_FROM, body="x").status == "queued"


def test_delay_before_answering(client: Client, standin: StandinHandle) -> None:
    standin.set_faults(delay=0.3)
    started = time.monotonic()
    client.messages.create(to=CARER, from_=SMS_FROM, body="x")
    assert time.monotonic() - started >= 0.3


def test_faults_set_over_http(client: Client, standin: StandinHandle) -> None:
    answer = requests.post(f"{standin.url}/_standin/faults", json={"rate_limit": 1}, timeout=5)
    assert answer.json()["rate_limit"] == 1
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=CARER, from_=SMS_FROM, body="x")
    assert raised.value.code == 20429


def test_unknown_fault_is_refused(standin: StandinHandle) -> None:
    answer = requests.post(f"{standin.url}/_standin/faults", json={"lightning": True}, timeout=5)
    assert answer.status_code == 400
