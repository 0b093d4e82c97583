"""Logs never carry numbers or words; every response carries security headers; production needs its secrets."""

from __future__ import annotations

import io
import logging

import pytest

from bot import logs as logs_mod
from bot.config import Settings
from bot.messaging.worker import Dispatcher

NUMBERS = ["+447700900501", "+447700900502"]
RASA = {"RASA_TOKEN": "r" * 32, "RASA_TRACKER_DB_URL": "sqlite://"}
WORDS = ["My mum has dementia and the days are long", "Contact me after 7 please", "zebra-unique-words"]


def test_a_full_run_logs_no_number_and_no_words(phone, services, twilio, settings, caplog, capfd):
    caplog.set_level(logging.DEBUG, logger="carertext")
    caplog.set_level(logging.DEBUG, logger="standin")
    logging.getLogger("carertext").debug("start of run")
    twilio.set_faults(rate_limit=1, server_error=1, opted_out=[NUMBERS[1]])
    for number, channel in zip(NUMBERS, ("sms", "whatsapp"), strict=True):
        p = phone(number, channel)
        for words in WORDS:
            p.send(words)
        p.send(WORDS[0], signature="Zm9yZ2Vk")  # refused: logged, without what it said
    phone(NUMBERS[1], "whatsapp").send("STOP")
    for _ in range(4):
        services.clock.advance(minutes=10)
        Dispatcher(services).run_once()
    phone(NUMBERS[0]).post_form({"MessageSid": "SM" + "0" * 32, "MessageStatus": "failed", "ErrorCode": "30003",
                                 "To": NUMBERS[0], "AccountSid": settings.twilio_account_sid},
                                path="/webhooks/twilio/status")
    out, err = capfd.readouterr()
    logs = "\n".join(r.getMessage() for r in caplog.records) + out + err
    assert "start of run" in logs and "outbound sent" in logs  # the scan saw real log lines
    for secret in NUMBERS + [n.lstrip("+") for n in NUMBERS] + WORDS:
        assert secret not in logs


def test_every_response_carries_security_headers(client, phone):
    responses = [client.get("/healthz"), client.get("/nowhere"), client.get("/console/login"),
                 phone().send("hi"), client.post("/webhooks/twilio/messages", data={})]
    for response in responses:
        csp = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "default-src" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("base, secure", [("https://carertext.example.org", True), ("http://127.0.0.1:5000", False)])
def test_session_cookies_are_http_only_lax_and_secure_on_https(services, base, secure):
    from webhooks import create_app

    app = create_app(settings=services.settings.with_(public_base_url=base), services=services)
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is secure


@pytest.mark.parametrize("env, refused", [
    ({"PRODUCTION": "1"}, "SECRET_KEY, TWILIO_AUTH_TOKEN, RASA_TOKEN, RASA_TRACKER_DB_URL"),
    ({"PRODUCTION": "1", "SECRET_KEY": "s" * 32, **RASA}, "TWILIO_AUTH_TOKEN"),
    ({"PRODUCTION": "1", "TWILIO_AUTH_TOKEN": "t" * 32, **RASA}, "SECRET_KEY"),
    ({"PRODUCTION": "1", "SECRET_KEY": "s" * 32, "TWILIO_AUTH_TOKEN": "t" * 32}, "RASA_TOKEN, RASA_TRACKER_DB_URL"),
    ({"PRODUCTION": "1", "SECRET_KEY": "s" * 32, "TWILIO_AUTH_TOKEN": "t" * 32, **RASA}, None),
    ({}, None),
])
def test_production_mode_refuses_to_start_without_its_secrets(env, refused):
    from webhooks import create_app

    settings = Settings.from_env(env, database_url="sqlite://")
    if refused:
        with pytest.raises(RuntimeError, match=refused):
            create_app(settings=settings)
    else:
        create_app(settings=settings)


def test_a_database_fault_mid_webhook_logs_neither_the_number_nor_the_words(app, phone, services):
    from sqlalchemy import text

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the fault is logged, not raised
    lines = io.StringIO()
    written = logs_mod.handler(lines)  # the gateway's own handler, formatting every line as it would
    logging.getLogger().addHandler(written)

    with services.db.engine.begin() as conn:  # the table goes away under a running gateway
        conn.execute(text("ALTER TABLE messages RENAME TO messages_gone"))
    try:
        response = phone(NUMBERS[0]).send(WORDS[2])
    finally:
        logging.getLogger().removeHandler(written)
        with services.db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE messages_gone RENAME TO messages"))
    assert response.status_code >= 500  # Twilio is told it failed, and its fallback or retry applies
    logs = lines.getvalue()
    assert "Traceback" in logs and "messages" in logs  # the scan saw the fault's own traceback
    for secret in [NUMBERS[0], NUMBERS[0].lstrip("+"), WORDS[2]]:
        assert secret not in logs


@pytest.mark.parametrize("key", ["dev-only-not-secret", "a key someone guessed"])
def test_a_console_cookie_signed_with_a_known_key_is_refused_without_secret_key(services, key):
    from flask import Flask

    from bot.duty import staff
    from tests.bot.duty.test_handoff import make_worker
    from webhooks import create_app

    admin = make_worker(services, email="admin@council.example", role=staff.ADMIN)
    with services.db.session() as s:
        version = s.get(staff.Worker, admin).session_version
    app = create_app(settings=services.settings.with_(secret_key=""), services=services)
    forger = Flask("forger")
    forger.config["SECRET_KEY"] = key
    cookie = forger.session_interface.get_signing_serializer(forger).dumps({"w": admin, "v": version})
    client = app.test_client()
    client.set_cookie("session", cookie)
    response = client.get("/console/staff")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]
