"""Safeguarding mid-assessment, with the real Rasa server: each tier answered in its own way."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.models import Answer, Handoff

pytestmark = pytest.mark.rasa

DUTY = "+447700900990"


def duty_alerts(twilio, at_least: int = 0, timeout: float = 10.0) -> list[str]:
    """The alerts the duty phone got, once there are at_least of them (they leave beside the carer's replies)."""
    deadline = time.monotonic() + timeout
    while True:
        bodies = [m["body"] for m in twilio.messages(to=DUTY)]
        if len(bodies) >= at_least or time.monotonic() > deadline:
            return bodies
        time.sleep(0.05)


def test_a_disclosure_buried_in_a_long_answer_stops_the_questions(carer, live, twilio):
    live.settings = live.settings.with_(duty_phone=DUTY)
    c = carer("+447700900401")
    c.answer_until(c.start(), stop_at="caring_tasks")
    replies = c.say("washing him, meals, his tablets, getting him up and to bed, the shopping and his appointments, "
                    "and to be honest some nights I sit with his tablets and think about taking the lot myself, "
                    "then the laundry and the garden")
    text = " ".join(replies)
    assert "116 123" in text and "person from the council team" in text
    assert c.question(replies) is None  # no next question after a disclosure
    with live.db.session() as s:
        assert [(h.reason, h.urgency) for h in s.scalars(select(Handoff))] == [("safeguarding", "urgent")]
        assert "caring_tasks" not in s.scalars(select(Answer.question_id)).all()  # not taken as an answer
    alerts = duty_alerts(twilio, 1)
    assert len(alerts) == 1 and "taking the lot" not in alerts[0]


def test_a_second_disclosure_while_a_person_has_the_case(carer, live, twilio, clock):
    live.settings = live.settings.with_(duty_phone=DUTY)
    c = carer("+447700900402")
    c.answer_until(c.start(), stop_at="lives_with")
    c.say("my nephew has been using mums bank card and she has nothing left for food")
    assert c.say("hello?") == []  # the crisis reply already said a person will be in touch
    replies = c.say("and he shoved me into the door when I asked him about it")
    assert any("0808 2000 247" in b for b in replies)  # the domestic abuse line this time
    assert len(duty_alerts(twilio, 2)) == 2
    clock.advance(minutes=live.settings.safeguarding_ack_minutes + 1)
    ack = c.say("is anyone there")
    assert len(ack) == 1 and "has your messages" in ack[0]
    assert c.say("ok") == []  # at most once an interval


def test_strain_asks_if_safe_then_the_assessment_carries_on(carer, live, twilio):
    c = carer("+447700900403")
    qid = c.answer_until(c.start(), stop_at="hours_week")
    replies = c.say("honestly I'm at the end of my tether with it all")
    assert len(replies) == 1 and "are you safe right now" in replies[0].lower()
    replies = c.say("yes")
    assert "carry on" in replies[0] and c.question(replies) == qid  # the same question again
    assert c.question(c.say("about 50")) == "nights"
    with live.db.session() as s:
        assert [(h.reason, h.urgency) for h in s.scalars(select(Handoff))] == [("safety_check", "soon")]


def test_out_of_hours_the_carer_is_given_the_emergency_duty_team(carer, live, twilio, clock):
    live.settings = live.settings.with_(duty_phone=DUTY, emergency_duty_phone="0300 555 0199")
    c = carer("+447700900404")
    c.answer_until(c.start(), stop_at="cared_for_needs")
    clock.set(datetime(2026, 12, 25, 22, 0, tzinfo=timezone.utc))  # Christmas night
    replies = c.say("he's hitting me right now and I'm locked in the bathroom")
    assert "999" in replies[0]  # danger now: 999 first
    assert any("0300 555 0199" in b and "closed" in b for b in replies)
    assert "Out of hours" in duty_alerts(twilio, 1)[0]


def test_no_texts_at_first_contact_stops_and_a_person_finds_another_way(carer, live):
    c = carer("+447700900405")
    assert "NO TEXTS" in " ".join(c.say("hi"))
    replies = c.say("no texts")
    assert len(replies) == 1 and "not text you again" in replies[0]
    with live.db.session() as s:
        assert [(h.reason, h.urgency) for h in s.scalars(select(Handoff))] == [("unsafe_to_text", "soon")]


def test_a_risk_only_the_dialogue_model_hears_asks_if_safe_and_keeps_the_question(carer, live, twilio):
    c = carer("+447700900405")
    qid = c.answer_until(c.start(), stop_at="hours_week")
    live.screen = lambda text: None  # the gateway's screen passes it; the NLU's second net does not
    replies = c.say("my brother has been taking dads pension every week and dad's got no food in")
    assert len(replies) == 1 and "are you safe right now" in replies[0].lower()
    with live.db.session() as s:
        assert [(h.reason, h.urgency) for h in s.scalars(select(Handoff))] == [("safety_check", "soon")]
        assert qid not in s.scalars(select(Answer.question_id)).all()  # not taken as an answer
    replies = c.say("yes")
    assert c.question(replies) == qid  # the same question again
