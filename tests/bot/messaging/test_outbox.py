"""The outbox against Twilio's faults: 429 waits and retries, a 5xx never sends twice, 21610 stops for good."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.messaging import outbox as outbox_mod
from bot.timing.clock import as_utc
from bot.models import Carer, Message
from bot.messaging.worker import Dispatcher


@pytest.fixture(autouse=True)
def real_time(clock):
    # The stand-in stamps messages with the real time; the outbox's "sent since" check must agree.
    clock.set(datetime.now(timezone.utc))


def outbound(services, to=None):
    with services.db.session() as s:
        return list(s.scalars(select(Message).where(Message.direction == "out").order_by(Message.id)))


def run_until_quiet(services, clock, rounds=12):
    for _ in range(rounds):
        Dispatcher(services).run_once()
        clock.advance(seconds=301)


def test_backoff_grows_with_full_jitter():
    for attempt in range(1, 10):
        waits = {round(outbox_mod.backoff(attempt), 6) for _ in range(50)}
        assert all(1.0 <= w <= min(300.0, 2.0 ** attempt) for w in waits)
        assert len(waits) > 1  # jitter: retries do not come back together


def test_rate_limited_sends_wait_and_go_exactly_once_in_order(phone, services, twilio, clock):
    twilio.set_faults(rate_limit=5)
    p = phone("+447700900701")
    for n in range(3):
        p.send(f"m{n}")
    Dispatcher(services).run_once()
    first = outbound(services)[0]
    assert first.state == "pending" and first.error_note == "retry" and first.error_code == 20429
    assert as_utc(first.next_attempt_at) > clock.now()  # waits, never hammers
    run_until_quiet(services, clock)
    assert [m["body"] for m in twilio.messages(to=p.address)] == ["got: m0", "got: m1", "got: m2"]
    assert {m.state for m in outbound(services)} == {"sent"}


def test_ambiguous_5xx_after_twilio_took_it_is_not_sent_again(phone, services, twilio, clock):
    twilio.set_faults(server_error=1, accepted_anyway=True)
    p = phone("+447700900702")
    p.send("hello")
    Dispatcher(services).run_once()
    (out,) = outbound(services)
    assert (out.state, out.error_note) == ("pending", "ambiguous")
    run_until_quiet(services, clock)
    (out,) = outbound(services)
    sent = twilio.messages(to=p.address)
    assert len(sent) == 1 and out.state == "sent" and out.twilio_sid == sent[0]["sid"]
    lists = [r for r in twilio.state.requests if r.method == "GET" and r.path.endswith("/Messages.json")]
    assert lists  # it asked Twilio before deciding


def test_5xx_that_twilio_did_not_keep_is_sent_once_after_the_check(phone, services, twilio, clock):
    twilio.set_faults(server_error=2, server_error_status=503)
    p = phone("+447700900703")
    p.send("hello")
    run_until_quiet(services, clock)
    assert [m["body"] for m in twilio.messages(to=p.address)] == ["got: hello"]
    assert outbound(services)[0].state == "sent"


def test_21610_marks_the_carer_opted_out_and_is_never_retried(phone, services, twilio, clock):
    twilio.set_faults(opted_out=["+447700900704"])
    p = phone("+447700900704")
    p.send("hello")
    p.send("still there?")
    run_until_quiet(services, clock)
    creates = [r for r in twilio.state.requests if r.method == "POST"]
    assert len(creates) == 1 and creates[0].code == 21610
    with services.db.session() as s:
        assert s.scalars(select(Carer.opted_out)).one() is True
    assert [(m.state, m.error_note) for m in outbound(services)] == [("failed", "opted_out")]


@pytest.mark.parametrize("mode", ["create", "callback"])
def test_63016_outside_the_whatsapp_window_crashes_nothing(mode, phone, services, twilio, clock, client, settings):
    twilio.set_faults(window_closed=["+447700900705"], window_mode=mode)
    p = phone("+447700900705", "whatsapp")
    p.send("hello")
    run_until_quiet(services, clock, rounds=4)
    if mode == "callback":
        sid = twilio.messages(to=p.address)[0]["sid"]
        r = p.post_form({"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "63016",
                         "AccountSid": settings.twilio_account_sid}, path="/webhooks/twilio/status")
        assert r.status_code == 204
        assert outbound(services)[0].error_code == 63016
    assert all(m.state in ("sent", "failed", "skipped", "pending") for m in outbound(services))
    assert len([r for r in twilio.state.requests if r.method == "POST"]) <= services.settings.outbox_max_attempts


def test_status_callbacks_duplicated_and_shuffled_end_at_the_latest_status(phone, services, twilio, clock, settings):
    p = phone("+447700900706")
    p.send("hello")
    Dispatcher(services).run_once()
    sid = twilio.messages(to=p.address)[0]["sid"]
    for status in ["read", "sent", "delivered", "queued", "sent", "read", "delivered", "failed"]:
        p.post_form({"MessageSid": sid, "MessageStatus": status, "AccountSid": settings.twilio_account_sid},
                    path="/webhooks/twilio/status")
    assert outbound(services)[0].delivery_status == "read"
