"""The simulator posts Twilio's signed incoming form to the webhook and shows the conversation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from werkzeug.serving import make_server

from bot.config import Settings
from standin import StandinHandle, run_standin_in_thread
from webhooks.simulator import bp

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "simulator-token"
CARER = "+447700900123"
SIMULATOR = Path(__file__).resolve().parents[2] / "webhooks" / "simulator"


class FakeGateway:
    """An inbound webhook that checks the signature like production and replies through the stand-in."""

    def __init__(self, standin: StandinHandle) -> None:
        self.received: list[tuple[dict[str, str], bool]] = []
        self.app = Flask("fake-gateway")
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        twilio = Client(ACCOUNT_SID, AUTH_TOKEN)
        twilio.api.base_url = standin.url
        validator = RequestValidator(AUTH_TOKEN)

        @self.app.post("/webhooks/twilio/messages")
        def inbound() -> tuple[str, int, dict[str, str]]:
            form = request.form.to_dict()
            # Validate against the public URL, as the gateway does, not request.url.
            valid = validator.validate(self.url + "/webhooks/twilio/messages", form,
                                       request.headers.get("X-Twilio-Signature", ""))
            self.received.append((form, valid))
            if not valid:
                return "", 403, {}
            twilio.messages.create(to=form["From"], from_=form["To"], body=f"You said: {form['Body']}")
            return "<Response/>", 200, {"Content-Type": "text/xml"}

        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture(scope="module")
def standin_server() -> Iterator[StandinHandle]:
    _, handle = run_standin_in_thread(AUTH_TOKEN, ACCOUNT_SID)
    yield handle
    handle.stop()


@pytest.fixture
def standin(standin_server: StandinHandle) -> StandinHandle:
    standin_server.reset()
    return standin_server


@pytest.fixture(scope="module")
def gateway_server(standin_server: StandinHandle) -> Iterator[FakeGateway]:
    fake = FakeGateway(standin_server)
    yield fake
    fake.server.shutdown()


@pytest.fixture
def gateway(gateway_server: FakeGateway, standin: StandinHandle) -> FakeGateway:
    gateway_server.received.clear()
    return gateway_server


def make_app(**settings: object) -> Flask:
    app = Flask("test-simulator")
    app.config["SETTINGS"] = Settings(twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                                      simulator=True, **settings)
    app.register_blueprint(bp)
    return app


@pytest.fixture
def client(standin: StandinHandle, gateway: FakeGateway) -> FlaskClient:
    return make_app(public_base_url=gateway.url, twilio_api_base_url=standin.url).test_client()


def test_page_works_offline_and_escapes_text(client: FlaskClient) -> None:
    page = client.get("/simulator")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html  # no external assets
    assert client.get("/simulator/static/simulator.js").status_code == 200
    script = (SIMULATOR / "static" / "simulator.js").read_text()
    assert "innerHTML" not in script and "textContent" in script


def test_sms_is_posted_signed_in_twilio_shape(client: FlaskClient, gateway: FakeGateway) -> None:
    answer = client.post("/simulator/send", json={"channel": "sms", "phone": CARER, "body": "Hello"})
    assert answer.status_code == 200 and answer.json["webhook_status"] == 200
    [(form, valid)] = gateway.received
    assert valid
    assert form["MessageSid"].startswith("SM") and len(form["MessageSid"]) == 34
    assert {k: form[k] for k in ("AccountSid", "From", "To", "Body", "NumMedia", "NumSegments", "SmsStatus",
                                 "ApiVersion")} == {
        "AccountSid": ACCOUNT_SID, "From": CARER, "To": "+447700900000", "Body": "Hello", "NumMedia": "0",
        "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
    assert "WaId" not in form


def test_whatsapp_adds_prefix_profile_name_and_wa_id(client: FlaskClient, gateway: FakeGateway) -> None:
    client.post("/simulator/send", json={"channel": "whatsapp", "phone": CARER, "body": "Hi 😀",
                                         "profile_name": "Sam"})
    [(form, valid)] = gateway.received
    assert valid
    assert (form["From"], form["To"], form["ProfileName"], form["WaId"]) == (
        "whatsapp:" + CARER, "whatsapp:+447700900000", "Sam", "447700900123")


@pytest.mark.parametrize(("kind", "fields"), [
    ("buttons", {"ButtonPayload": "2", "ButtonText": "No", "MessageType": "button"}),
    ("list", {"ListId": "2", "ListTitle": "No", "MessageType": "interactive"}),
])
def test_a_tap_on_a_whatsapp_choice_is_posted_as_twilio_sends_it(client: FlaskClient, gateway: FakeGateway,
                                                                 kind: str, fields: dict) -> None:
    answer = client.post("/simulator/send", json={"channel": "whatsapp", "phone": CARER,
                                                  "tapped": {"kind": kind, "id": "2", "title": "No"}})
    assert answer.status_code == 200
    [(form, valid)] = gateway.received
    assert valid and form["Body"] == "No"
    assert {k: form[k] for k in fields} == fields


@pytest.mark.parametrize("payload", [
    {"channel": "sms", "phone": CARER, "tapped": {"kind": "buttons", "id": "2", "title": "No"}},
    {"channel": "whatsapp", "phone": CARER, "tapped": {"kind": "carousel", "id": "2", "title": "No"}},
    {"channel": "whatsapp", "phone": CARER, "tapped": {"kind": "buttons", "id": "", "title": "No"}},
    {"channel": "whatsapp", "phone": CARER, "tapped": "2"},
])
def test_a_tap_that_whatsapp_could_not_send_is_refused(client: FlaskClient, gateway: FakeGateway,
                                                       payload: dict) -> None:
    assert client.post("/simulator/send", json=payload).status_code == 400
    assert gateway.received == []


def test_a_reply_with_buttons_lists_them_with_the_message(client: FlaskClient, standin: StandinHandle) -> None:
    from bot.adapters.twilio_content import TwilioContent

    api = TwilioContent(ACCOUNT_SID, AUTH_TOKEN, standin.url)
    sid = api.create("yes_no_en", "en", {"1": "Shall we carry on?"}, {
        "twilio/quick-reply": {"body": "{{1}}", "actions": [{"title": "Yes", "id": "1"}, {"title": "No", "id": "2"}]}})
    twilio = Client(ACCOUNT_SID, AUTH_TOKEN)
    twilio.api.base_url = standin.url
    twilio.messages.create(to="whatsapp:" + CARER, from_="whatsapp:+447700900000", content_sid=sid,
                           content_variables='{"1": "Shall we carry on?"}')
    [shown] = client.post("/simulator/messages", json={"channel": "whatsapp", "phone": CARER}).json["messages"]
    assert shown["body"] == "Shall we carry on?"
    assert shown["choices"] == {"kind": "buttons", "items": [{"id": "1", "title": "Yes"}, {"id": "2", "title": "No"}]}


def test_conversation_shows_sent_and_replies_in_order(client: FlaskClient, standin: StandinHandle) -> None:
    text = "<script>alert('x')</script> & ok"
    client.post("/simulator/send", json={"channel": "sms", "phone": CARER, "body": text})
    standin.wait_for(1, to=CARER)
    by_get = client.get("/simulator/messages", query_string={"phone": CARER}).json["messages"]
    by_post = client.post("/simulator/messages", json={"channel": "sms", "phone": CARER}).json["messages"]
    assert [(m["direction"], m["body"]) for m in by_get] == [("in", text), ("out", f"You said: {text}")]
    assert by_post == by_get
    # The WhatsApp conversation of the same number is a different one.
    assert client.post("/simulator/messages", json={"channel": "whatsapp", "phone": CARER}).json["messages"] == []


def test_forged_signature_is_seen_by_the_gateway_as_forged(standin: StandinHandle, gateway: FakeGateway) -> None:
    app = make_app(public_base_url=gateway.url, twilio_api_base_url=standin.url)
    app.config["SETTINGS"] = app.config["SETTINGS"].with_(twilio_auth_token="wrong-token")
    answer = app.test_client().post("/simulator/send", json={"channel": "sms", "phone": CARER, "body": "x"})
    assert answer.json["webhook_status"] == 403


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "channel=sms&phone=%2B447700900123&body=x",
          "content_type": "application/x-www-form-urlencoded"}, 415),
        ({"json": {"channel": "sms", "phone": "07700900123", "body": "x"}}, 400),
        ({"json": {"channel": "fax", "phone": CARER, "body": "x"}}, 400),
        ({"json": {"channel": "sms", "phone": CARER}}, 400),
    ],
)
def test_bad_send_requests_are_refused(client: FlaskClient, gateway: FakeGateway, kwargs: dict, status: int) -> None:
    assert client.post("/simulator/send", **kwargs).status_code == status
    assert gateway.received == []


def test_unreachable_gateway_is_502() -> None:
    app = make_app(public_base_url="http://127.0.0.1:9")
    answer = app.test_client().post("/simulator/send", json={"channel": "sms", "phone": CARER, "body": "x"})
    assert answer.status_code == 502


def test_refused_in_production() -> None:
    app = make_app(production=True)
    assert app.test_client().get("/simulator").status_code == 404
