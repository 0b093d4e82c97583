"""Duty alerts by e-mail: a real SMTP exchange with a local server, through the outbox's claims and retries."""

from __future__ import annotations

import logging

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bot import services as services_mod
from bot.models import Handoff, Message
from bot.messaging.worker import Dispatcher
from bot.launcher import free_port

CARER = "+447700900731"
DUTY = ["duty.team@council.example.gov.uk", "manager@council.example.gov.uk"]


class DutyInbox:
    """An SMTP server's receiving end: keeps what it took, or answers with the codes it is told to."""

    def __init__(self):
        self.received = []
        self.answers: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        if self.answers:
            return self.answers.pop(0)
        self.received.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = DutyInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{port}"
    yield inbox
    controller.stop()


@pytest.fixture
def duty_services(settings, clock, rasa, twilio, smtp):
    built = services_mod.build(settings.with_(duty_email=", ".join(DUTY), smtp_url=smtp.url,
                                              alert_email_from="carertext@council.example.gov.uk"),
                               clock=clock, rasa=rasa)
    yield built
    built.db.engine.dispose()


def alerts(services):
    with services.db.session() as s:
        return list(s.scalars(select(Message).where(Message.kind == "alert").order_by(Message.id)))


def test_a_crisis_emails_the_duty_team_at_once_without_the_carers_words(phone, duty_services, smtp, twilio, caplog):
    caplog.set_level(logging.INFO)
    phone(CARER).send("i want to end my life tonight")
    Dispatcher(duty_services).run_once()
    assert sorted(to for tos, _ in smtp.received for to in tos) == sorted(DUTY)
    _, mail = smtp.received[0]
    with duty_services.db.session() as s:
        case = s.scalars(select(Handoff)).one().id
    assert f"Subject: CarerText URGENT: case {case}, a carer may be at risk" in mail
    assert f"https://carertext.example.org/console/handoffs/{case}" in mail
    assert "suicide" in mail or "self_harm" in mail  # the risk flag, so the team knows how urgent
    assert "end my life" not in mail and CARER not in mail and CARER.lstrip("+") not in mail
    assert [m.state for m in alerts(duty_services)] == ["sent", "sent"]
    # The carer still got the crisis reply in the same turn.
    assert any("116 123" in m["body"] for m in twilio.messages(to=CARER))
    assert "end my life" not in caplog.text and CARER not in caplog.text


def test_a_mail_server_that_says_try_later_or_is_down_gets_the_alert_later_once(phone, duty_services, smtp, clock):
    smtp.answers = ["451 4.3.0 Try again later", "451 4.3.0 Try again later"]
    phone(CARER).send("I want to end my life")
    Dispatcher(duty_services).run_once()
    assert smtp.received == []
    assert {m.state for m in alerts(duty_services)} == {"pending"}  # kept, with a retry time
    for _ in range(6):
        clock.advance(minutes=5)
        duty_services.outbox.send_due()
    assert sorted(to for tos, _ in smtp.received for to in tos) == sorted(DUTY)  # each exactly once
    assert [m.state for m in alerts(duty_services)] == ["sent", "sent"]


def test_an_address_the_server_refuses_for_good_is_recorded_not_retried(phone, duty_services, smtp, clock):
    smtp.answers = ["550 5.1.1 No such mailbox"]
    phone(CARER).send("I want to end my life")
    Dispatcher(duty_services).run_once()
    for _ in range(3):
        clock.advance(minutes=10)
        duty_services.outbox.send_due()
    states = [(m.state, m.error_note, m.attempts) for m in alerts(duty_services)]
    assert states[0] == ("failed", "smtp 550", 1)
    assert states[1][0] == "sent"
    assert len(smtp.received) == 1


def test_without_a_mail_server_the_alert_is_failed_visibly_and_sms_still_goes(phone, settings, clock, rasa, twilio):
    built = services_mod.build(settings.with_(duty_email=DUTY[0], duty_phone="+447700900999"), clock=clock, rasa=rasa)
    try:
        phone(CARER).send("I want to end my life")
        Dispatcher(built).run_once()
        by_channel = {m.channel: (m.state, m.error_note) for m in alerts(built)}
        assert by_channel == {"sms": ("sent", None), "email": ("failed", "no SMTP_URL set")}
        assert len(twilio.messages(to="+447700900999")) == 1
    finally:
        built.db.engine.dispose()
