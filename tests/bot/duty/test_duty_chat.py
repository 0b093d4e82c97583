"""Duty alerts to the team's chat: a real HTTP POST to a local incoming webhook, through the outbox's retries."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from bot import services as services_mod
from bot.models import Handoff
from bot.messaging.worker import Dispatcher
from tests.bot.duty.test_duty_email import alerts

CARER = "+447700900741"
SECRET_PATH = "/webhookb2/team-secret-token"


class IncomingWebhook:
    """A chat tool's incoming webhook: keeps each JSON post, or answers with the statuses it is told to."""

    def __init__(self):
        self.posts: list[dict] = []
        self.answers: list[int] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = hook.answers.pop(0) if hook.answers else 200
                if status == 200 and self.path == SECRET_PATH and self.headers["Content-Type"] == "application/json":
                    hook.posts.append(json.loads(body))
                self.send_response(status if self.path == SECRET_PATH else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{SECRET_PATH}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def chat():
    hook = IncomingWebhook()
    yield hook
    hook.server.shutdown()


@pytest.fixture
def duty_services(settings, clock, rasa, twilio, chat):
    built = services_mod.build(settings.with_(duty_webhook_url=chat.url), clock=clock, rasa=rasa)
    yield built
    built.db.engine.dispose()


def test_a_crisis_posts_to_the_duty_chat_at_once_without_the_carers_words(phone, duty_services, chat, twilio,
                                                                         caplog):
    caplog.set_level(logging.INFO)
    phone(CARER).send("i want to end my life tonight")
    Dispatcher(duty_services).run_once()
    [post] = chat.posts
    with duty_services.db.session() as s:
        case = s.scalars(select(Handoff)).one().id
    assert post["text"].startswith(f"CarerText URGENT: case {case}, a carer may be at risk")
    assert f"https://carertext.example.org/console/handoffs/{case}" in post["text"]
    assert "end my life" not in post["text"] and CARER.lstrip("+") not in post["text"]
    assert [(m.channel, m.state) for m in alerts(duty_services)] == [("chat", "sent")]
    assert any("116 123" in m["body"] for m in twilio.messages(to=CARER))  # the carer's crisis reply too
    # The webhook's address holds the channel's secret: not in the log, not in the database.
    assert "team-secret-token" not in caplog.text and "end my life" not in caplog.text
    assert all("team-secret-token" not in (m.to_address or "") for m in alerts(duty_services))


def test_a_teams_channel_gets_an_adaptive_card_with_the_case_and_link(phone, settings, clock, rasa, twilio, chat):
    built = services_mod.build(settings.with_(duty_webhook_url=chat.url, duty_webhook_format="teams"),
                               clock=clock, rasa=rasa)
    try:
        phone(CARER).send("i want to end my life tonight")
        Dispatcher(built).run_once()
        [post] = chat.posts
        with built.db.session() as s:
            case = s.scalars(select(Handoff)).one().id
    finally:
        built.db.engine.dispose()
    assert post["type"] == "message"
    [attachment] = post["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    texts = [block["text"] for block in card["body"] if block["type"] == "TextBlock"]
    assert texts[0].startswith(f"CarerText URGENT: case {case}")
    assert any(f"https://carertext.example.org/console/handoffs/{case}" in t for t in texts)
    assert not any("end my life" in t or CARER.lstrip("+") in t for t in texts)


def test_an_unknown_webhook_format_is_refused_at_start(settings, clock, rasa):
    with pytest.raises(ValueError, match="DUTY_WEBHOOK_FORMAT"):
        services_mod.build(settings.with_(duty_webhook_url="https://chat.example/hook", duty_webhook_format="xml"),
                           clock=clock, rasa=rasa)


def test_a_chat_that_says_try_later_gets_the_alert_later_once(phone, duty_services, chat, clock):
    chat.answers = [503, 429]
    phone(CARER).send("I want to end my life")
    Dispatcher(duty_services).run_once()
    assert chat.posts == [] and [m.state for m in alerts(duty_services)] == ["pending"]
    for _ in range(6):
        clock.advance(minutes=5)
        duty_services.outbox.send_due()
    assert len(chat.posts) == 1
    assert [(m.state, m.attempts) for m in alerts(duty_services)] == [("sent", 3)]


def test_a_removed_webhook_is_recorded_as_failed_not_retried(phone, duty_services, chat, clock):
    chat.answers = [404]
    phone(CARER).send("I want to end my life")
    Dispatcher(duty_services).run_once()
    for _ in range(3):
        clock.advance(minutes=10)
        duty_services.outbox.send_due()
    assert chat.posts == []
    assert [(m.state, m.error_note, m.attempts) for m in alerts(duty_services)] == [
        ("failed", "chat webhook 404", 1)]


def test_a_chat_that_cannot_be_reached_is_retried(phone, settings, clock, rasa, twilio, chat):
    built = services_mod.build(settings.with_(duty_webhook_url="http://127.0.0.1:1/webhook"), clock=clock, rasa=rasa)
    try:
        phone(CARER).send("I want to end my life")
        Dispatcher(built).run_once()
        [alert] = alerts(built)
        assert (alert.state, alert.error_note) == ("pending", "retry")
    finally:
        built.db.engine.dispose()
