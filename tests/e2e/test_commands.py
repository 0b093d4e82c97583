"""Commands and life events mid-assessment, in the carer's own words, through the real Rasa server.

The same carer's-phone harness as test_assessment.py: signed webhooks in, replies at Twilio's stand-in, and the
gateway's FakeClock, so reminders days later are one line.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.models import Answer, Carer, Handoff
from bot.timing.reminders import Reminder, tick
from tests.e2e.chat import CAT

pytestmark = pytest.mark.rasa


def reminders_sent(live, clock, days: int) -> list[str]:
    """Move the clock a few days in half-days, ticking like the scheduler; the reminders that went."""
    sent = []
    for _ in range(days * 2):
        clock.advance(hours=12)
        tick(live)
    with live.db.session() as s:
        for r in s.scalars(select(Reminder).where(Reminder.state == "sent")):
            sent.append(r.kind)
    return sent


def test_a_bereavement_mid_assessment_gets_condolences_a_person_and_no_more_questions(carer, live, clock):
    c = carer("+447700900401")
    c.answer_until(c.start(), stop_at="nights")
    replies = c.say("I'm so sorry but my husband passed away last night")
    assert replies == [CAT.text("bereavement")] and c.question(replies) is None
    with live.db.session() as s:
        handoff = s.scalars(select(Handoff).where(Handoff.reason == "bereavement")).one()
        assert handoff.urgency == "soon"
        assert c.conversation(s).assessment_status == "ended"
        assert not s.scalars(select(Answer).where(Answer.question_id == "nights")).all()
    for text in ("thank you", "yes", "carry on"):
        assert c.question(c.say(text)) is None
    assert reminders_sent(live, clock, days=8) == []


def test_a_stop_in_their_own_words_on_sms_is_confirmed_once_then_nothing_goes_out(carer, live, clock):
    c = carer("+447700900402")
    c.answer_until(c.start(), stop_at="cared_for_needs")
    assert c.say("please stop texting me, I have changed my mind about doing this") == [CAT.text("opted_out")]
    assert c.say("hello?") == []
    assert reminders_sent(live, clock, days=8) == []
    with live.db.session() as s:
        assert s.scalars(select(Carer.opted_out)).one() is True


def test_a_pause_with_a_time_sends_the_reminder_then(carer, live, clock):
    c = carer("+447700900403")
    c.answer_until(c.start(), stop_at="hours_week")
    replies = c.say("sorry mum's calling, can you text me tomorrow evening")
    assert replies == [CAT.text("pause_at_time")]
    first = None
    for _ in range(100):  # the schedule is written just after the reply leaves
        with live.db.session() as s:
            first = s.scalars(select(Reminder).where(Reminder.state == "pending").order_by(Reminder.planned_at)).first()
        if first is not None and first.anchor_at.replace(tzinfo=timezone.utc) == clock.now():
            break
        time.sleep(0.05)
    with live.db.session() as s:
        assert not s.scalars(select(Answer).where(Answer.question_id == "hours_week")).all()
        said_at = clock.now()
        tomorrow = (said_at + timedelta(days=1)).date()
        # 18:30 in London is 18:30 UTC in winter (the FakeClock starts in November).
        assert first.due_at.replace(tzinfo=timezone.utc) == datetime(tomorrow.year, tomorrow.month, tomorrow.day,
                                                                     18, 30, tzinfo=timezone.utc)


def test_a_carer_who_says_yes_and_goes_quiet_at_the_first_question_is_reminded(carer, live, clock):
    c = carer("+447700900404")
    assert c.start() == "name"
    assert reminders_sent(live, clock, days=2) == ["nudge1"]


def test_the_wrong_number_is_apologised_to_and_never_texted_again(carer, live, clock):
    c = carer("+447700900405")
    c.answer_until(c.start(), stop_at="cared_for_who")
    assert c.say("sorry, I think you have the wrong number") == [CAT.text("wrong_number")]
    assert c.say("??") == []
    assert reminders_sent(live, clock, days=8) == []


def test_a_care_home_move_stops_the_questions_and_asks_a_person(carer, live):
    c = carer("+447700900406")
    c.answer_until(c.start(), stop_at="caring_tasks")
    replies = c.say("just to let you know mum has moved into a care home")
    assert replies == [CAT.text("care_home_or_hospital")] and c.question(replies) is None
    with live.db.session() as s:
        assert s.scalars(select(Handoff.reason)).all() == ["circumstances_changed"]


def test_asides_get_their_own_answer_and_the_question_again(carer, live):
    c = carer("+447700900407")
    c.answer_until(c.start(), stop_at="lives_with")
    for text, key in (("sorry who are you again?", "about_service"), ("who gets to see what I write", "who_sees"),
                      ("how long does this take", "how_long_so_far")):
        replies = c.say(text)
        assert replies[0].startswith(CAT.text(key).split("{")[0][:30]) and c.question(replies) == "lives_with", text


def test_a_change_named_by_its_topic_goes_straight_to_that_question(carer, live):
    c = carer("+447700900408")
    c.answer_until(c.start(), stop_at="physical_health")
    assert c.question(c.say("I got the hours wrong")) == "hours_week"
    assert c.question(c.say("55")) == "physical_health"
    with live.db.session() as s:
        assert s.scalars(select(Answer.value).where(Answer.question_id == "hours_week",
                                                    Answer.status == "changed")).one() == 55


def test_ordinary_answers_that_sound_like_commands_are_answers(carer, live):
    c = carer("+447700900409")
    qid = c.answer_until(c.start(), stop_at="cared_for_who")
    assert c.question(c.say("my mum died two years ago and now I care for dad")) == "cared_for_needs"
    assert c.question(c.say("he's in hospital appointments a lot with his heart")) == "lives_with"
    with live.db.session() as s:
        raws = dict(s.execute(select(Answer.question_id, Answer.raw)).all())
    assert raws["cared_for_who"].startswith("my mum died") and qid == "cared_for_who"
