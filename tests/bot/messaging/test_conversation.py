"""The conversation loop: session rotation, crash recovery, opt-out words, the apology rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.models import Carer, Message
from bot.messaging.worker import Dispatcher


def sent_bodies(twilio, to=None):
    return [m["body"] for m in twilio.messages(to=to)]


def test_a_new_rasa_session_starts_every_n_turns(phone, services, rasa, twilio, clock):
    p = phone()
    turns = services.settings.rasa_session_turns
    for n in range(turns * 2 + 1):
        clock.advance(seconds=30)  # a carer's pace, under the flood limit
        p.send(f"answer {n}")
        Dispatcher(services).run_once()
    assert len(rasa.sessions_started) == 2
    assert len(twilio.messages()) == turns * 2 + 1


def test_a_message_left_mid_processing_by_a_crash_is_answered_once(phone, services, rasa, twilio, clock):
    p = phone()
    p.send("before the crash")
    with services.db.session() as s:
        # What a worker killed between claiming and replying leaves behind.
        s.execute(update(Message).values(state="processing", attempts=1))
        s.execute(update(Carer).values(lease_owner="dead-worker", lease_until=clock.now()))
    clock.advance(seconds=1)
    Dispatcher(services).run_once()
    assert sent_bodies(twilio) == ["got: before the crash"]
    Dispatcher(services).run_once()
    assert sent_bodies(twilio) == ["got: before the crash"]


def test_a_live_lease_keeps_other_workers_off_the_carer(phone, services, twilio, clock):
    p = phone()
    p.send("hello")
    with services.db.session() as s:
        s.execute(update(Carer).values(lease_owner="other-worker", lease_until=clock.now() + timedelta(seconds=20)))
    Dispatcher(services).run_once()
    assert twilio.messages() == []
    clock.advance(seconds=21)  # the other worker died: its lease runs out and the message is answered
    Dispatcher(services).run_once()
    assert sent_bodies(twilio) == ["got: hello"]


def test_stop_opts_out_and_nothing_more_is_sent_until_start(phone, services, rasa, twilio):
    p = phone(channel="whatsapp")
    p.send("hello")
    p.send("STOP")
    p.send("are you there")
    Dispatcher(services).run_once()
    bodies = sent_bodies(twilio)
    # On WhatsApp the product confirms the opt-out itself (Twilio does so only for SMS).
    assert bodies[0] == "got: hello" and "not get any more messages" in bodies[1] and len(bodies) == 2
    assert [t for _, t, _ in rasa.seen] == ["hello"]
    p.send("START")
    Dispatcher(services).run_once()
    assert [t for _, t, _ in rasa.seen] == ["hello", "start"]
    assert sent_bodies(twilio)[-1] == "got: start"


def test_rasa_down_keeps_the_message_and_sends_one_apology_only_after_the_delay(phone, services, rasa, twilio, clock):
    p = phone()
    rasa.down = True
    p.send("first")
    p.send("second")
    Dispatcher(services).run_once()
    assert twilio.messages() == []  # no apology before the delay
    for _ in range(10):
        clock.advance(seconds=30)
        Dispatcher(services).run_once()
    assert sent_bodies(twilio) == [services.catalogue.text("apology_delay")]
    rasa.down = False
    clock.advance(seconds=60)
    Dispatcher(services).run_once()
    assert sent_bodies(twilio)[1:] == ["got: first", "got: second"]
    with services.db.session() as s:
        assert set(s.scalars(select(Message.state).where(Message.direction == "in"))) == {"done"}


def test_media_only_is_acknowledged_kindly_without_the_dialogue_model(phone, services, rasa, twilio):
    phone().send("", NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1", MediaContentType0="image/jpeg")
    Dispatcher(services).run_once()
    assert sent_bodies(twilio) == [services.catalogue.text("media_received")]
    assert rasa.seen == []


@pytest.mark.parametrize("words", ["Stop.", "STOP ALL", "opt out", "Unsubscribe", "revoke", "End"])
def test_each_of_twilios_opt_out_keywords_stops_whatsapp_before_the_bot_reads_it(phone, services, rasa, twilio, words):
    p = phone(channel="whatsapp")
    p.send(words)
    Dispatcher(services).run_once()
    assert rasa.seen == []
    assert "not get any more messages" in sent_bodies(twilio)[-1]


def scripted(rasa, script: dict) -> None:
    """Rasa answers these messages with these payloads, and others as usual."""
    plain = rasa.reply

    def reply(sender, text, metadata):
        out = plain(sender, text, metadata)
        return script.get(text, out)
    rasa.reply = reply


def test_a_stop_in_their_own_words_on_sms_is_confirmed_once_then_nothing_goes_out(phone, services, rasa, twilio):
    scripted(rasa, {"please stop texting me": [{"custom": {"event": "opt_out", "confirm": "opted_out"}}]})
    p = phone()
    p.send("hello")
    p.send("please stop texting me")
    p.send("are you there")
    Dispatcher(services).run_once()
    # No carrier confirms an opt-out in a sentence, on SMS either: the product does, once.
    assert sent_bodies(twilio) == ["got: hello", services.catalogue.text("opted_out")]
    assert [t for _, t, _ in rasa.seen] == ["hello", "please stop texting me"]
    with services.db.session() as s:
        assert s.scalars(select(Carer.opted_out)).one() is True


def test_a_wrong_number_gets_one_apology_and_never_another_text(phone, services, rasa, twilio):
    scripted(rasa, {"wrong number mate": [{"custom": {"event": "opt_out", "confirm": "wrong_number"}}]})
    p = phone()
    p.send("wrong number mate")
    p.send("hello?")
    Dispatcher(services).run_once()
    assert sent_bodies(twilio) == [services.catalogue.text("wrong_number")]


def test_the_stop_keyword_on_sms_is_left_to_twilio(phone, services, rasa, twilio):
    p = phone()
    p.send("STOP")
    Dispatcher(services).run_once()
    assert twilio.messages() == [] and rasa.seen == []
