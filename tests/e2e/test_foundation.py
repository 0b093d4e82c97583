"""End to end through the real Rasa server: a signed webhook in, the reply at Twilio's stand-in."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from bot import services as services_mod
from bot.models import Conversation, Message
from bot.messaging.worker import Dispatcher

pytestmark = pytest.mark.rasa


@pytest.fixture
def live(settings, rasa_server, twilio, clock):
    """The gateway's services wired to the real Rasa server, with worker threads running."""
    from bot.timing.clock import SystemClock

    built = services_mod.build(rasa_server.settings_for(settings, apology_after_seconds=2.0), clock=SystemClock())
    dispatcher = Dispatcher(built, threads=2, poll_seconds=0.2).start()
    yield built
    dispatcher.stop()
    built.db.engine.dispose()


def test_rasa_and_the_action_server_refuse_a_caller_without_the_token(rasa_server):
    import requests

    tracker = rasa_server.url + "/conversations/someone/tracker"
    assert requests.get(tracker, timeout=10).status_code == 401
    assert requests.get(tracker, params={"token": "guessed"}, timeout=10).status_code == 401
    assert requests.get(tracker, params={"token": rasa_server.token}, timeout=10).status_code == 200
    actions = f"http://127.0.0.1:{rasa_server.actions_port}/webhook"
    call = {"next_action": "action_session_start", "sender_id": "someone", "tracker": {}, "domain": {}}
    assert requests.post(actions, json=call, timeout=10).status_code == 401
    assert requests.post(actions, json=call, params={"token": "guessed"}, timeout=10).status_code == 401


@pytest.fixture
def live_phone(live, phone):
    from webhooks import create_app

    client = create_app(services=live).test_client()

    def make(number: str, channel: str = "sms"):
        p = phone(number, channel)
        p.client = client
        return p
    return make


def bodies(twilio, to):
    return [m["body"] for m in twilio.messages(to=to)]


def wait_text(twilio, to, fragment: str, start: int = 0, timeout: float = 30.0) -> list[str]:
    """Wait until a message to `to` after the first `start` contains `fragment`; return those messages."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = bodies(twilio, to)[start:]
        if any(fragment.lower() in b.lower() for b in got):
            return got
        time.sleep(0.1)
    raise AssertionError(f"no reply containing {fragment!r}; got {bodies(twilio, to)[start:]}")


def test_first_message_gets_greeting_privacy_notice_and_consent(live_phone, twilio):
    p = live_phone("+447700900201")
    assert p.send("hi").status_code == 200
    text = " ".join(wait_text(twilio, p.address, "shall we start")).lower()
    assert "carertext" in text
    assert "stored securely" in text and "delete my data" in text  # the privacy notice
    # Every request the stand-in received was valid against Twilio's OpenAPI description.
    assert [r for r in twilio.state.requests if r.verdict == "rejected"] == []


def written(live, read, expected, timeout: float = 10.0):
    """What read(session) gives once it is `expected`, or at the timeout: a first reply leaves before its
    turn is written (bot.messaging.outbox.Outbox.send_unwritten), so the record follows it by a moment."""
    deadline = time.monotonic() + timeout
    while True:
        with live.db.session() as s:
            value = read(s)
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_consent_leads_to_the_first_question_and_answers_are_saved(live_phone, twilio, live):
    p = live_phone("+447700900202", "whatsapp")
    p.send("hello")
    first = len(wait_text(twilio, p.address, "shall we start"))
    p.send("yes")
    later = " ".join(wait_text(twilio, p.address, "name", start=first)).lower()
    assert "text back any time" in later and "saved" in later
    p.send("Sam")
    wait_text(twilio, p.address, "?", start=len(bodies(twilio, p.address)))
    status = written(live, lambda s: s.scalars(select(Conversation.assessment_status)).one(), "in_progress")
    assert status == "in_progress"


def test_same_message_sid_twice_gives_one_reply(live_phone, twilio, live):
    p = live_phone("+447700900203")
    sid = "SM" + "d" * 32
    p.send("hi", sid=sid)
    p.send("hi", sid=sid)
    n = len(wait_text(twilio, p.address, "shall we start"))
    time.sleep(2.0)
    with live.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 1
    assert len(twilio.messages(to=p.address)) == n  # nothing more arrived for the duplicate


def test_forged_signature_stores_nothing(live_phone, live, twilio):
    p = live_phone("+447700900204")
    assert p.send("hi", signature="Zm9yZ2Vk").status_code == 403
    with live.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0
    time.sleep(0.5)
    assert twilio.messages(to=p.address) == []


def test_with_rasa_stopped_the_message_is_kept_and_answered_when_rasa_is_back(live_phone, twilio, live, rasa_server):
    p = live_phone("+447700900205")
    rasa_server.stop_rasa()
    try:
        assert p.send("hello").status_code == 200
        time.sleep(3.0)
        with live.db.session() as s:
            msg = s.scalars(select(Message).where(Message.direction == "in")).one()
            assert msg.state == "pending" and msg.body == "hello"
        # At most one short apology, and only after the configured delay.
        early = bodies(twilio, p.address)
        assert len(early) <= 1
    finally:
        rasa_server.start()
    replies = twilio.wait_for(len(early) + 1, timeout=60, to=p.address)
    assert len(replies) > len(early)
    state = written(live, lambda s: s.scalars(select(Message.state).where(Message.direction == "in")).one(), "done")
    assert state == "done"
