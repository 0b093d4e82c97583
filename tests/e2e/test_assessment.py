"""The carer's assessment end to end: signed webhooks in, the real Rasa server, replies at Twilio's stand-in.

The gateway's clock is a FakeClock: each carer message is stored with its time, and the gateway tells Rasa how
long the carer was away (metadata resumed_after_hours), so days pass in one line.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.duty import worksheet
from bot.duty.assessment import assessment_record
from bot.models import Answer, Handoff
from tests.e2e.chat import CAT, REPLY

pytestmark = pytest.mark.rasa


def test_a_whole_assessment_in_one_sitting(carer, live):
    c = carer("+447700900301")
    everything: list[str] = []
    qid = c.start()
    assert qid == "name"
    c.answer_until(qid, on_each=lambda q, r: everything.extend(r))
    text = " ".join(everything)
    assert "That's all the questions" in text and "What happens next" in text
    assert "Carer's Allowance" in text and "carer's leave" in text and "emergency plan" in text
    assert "Your carer's assessment, in short. You care for: my mum. About 40 hours a week." in text
    with live.db.session() as s:
        conv = c.conversation(s)
        assert conv.assessment_status == "completed" and conv.completed_at is not None
        assert s.scalars(select(Handoff.reason)).all() == ["completed"]
        record = assessment_record(s, conv.id)
    asked = [a for a in record["answers"] if a["asked"]]
    assert len(asked) == len(REPLY) and all(a["status"] == "answered" for a in asked)
    assert {a["question_id"]: a["value"] for a in asked}["hours_week"] == 40


def test_over_several_days_with_a_pause_in_the_middle(carer, live, clock):
    c = carer("+447700900302")
    qid = c.answer_until(c.start(), stop_at="hours_week")
    clock.advance(minutes=5)
    assert "everything is saved" in " ".join(c.say("sorry got to go hes calling me"))
    clock.advance(days=2, hours=3)
    back = c.say("hi its me again")
    assert back[0].startswith("Welcome back, Jo.") and "Last time we got to the questions about what caring" in back[1]
    assert "see your answers" in back[-1]
    replies = c.say("1")
    assert c.question(replies) == qid  # the exact question they were on
    qid = c.answer_until(qid, stop_at="relationships")
    clock.advance(hours=20)
    back = c.say("hello")
    assert any("Last time we got to" in b for b in back)
    assert c.question(c.say("yes")) == "relationships"
    c.answer_until("relationships")
    with live.db.session() as s:
        assert c.conversation(s).assessment_status == "completed"
        times = s.scalars(select(Answer.answered_at).order_by(Answer.id)).all()
    assert (times[-1] - times[0]).days >= 2


def test_changing_an_earlier_answer(carer, live):
    c = carer("+447700900303")
    c.answer_until(c.start(), stop_at="nights")
    replies = c.say("can i change my answer about the hours")
    assert c.question(replies) == "hours_week"
    assert c.question(c.say("60")) == "nights"  # and back to where they were
    with live.db.session() as s:
        rows = s.scalars(select(Answer).where(Answer.question_id == "hours_week").order_by(Answer.id)).all()
        assert [(r.value, r.status, r.changed) for r in rows] == [(40, "answered", True), (60, "changed", False)]


def test_skipping_a_question(carer, live):
    c = carer("+447700900304")
    c.answer_until(c.start(), stop_at="cared_for_needs")
    replies = c.say("skip")
    assert "skip that one" in replies[0] and c.question(replies) == "lives_with"
    with live.db.session() as s:
        row = s.scalars(select(Answer).where(Answer.question_id == "cared_for_needs")).one()
        assert row.status == "skipped" and row.value is None


def test_stop_mid_way_then_start_back_where_they_were(carer, live):
    c = carer("+447700900305")
    c.answer_until(c.start(), stop_at="lives_with")
    assert c.say("STOP") == []  # Twilio confirms an SMS opt-out itself
    assert c.say("hello are you there") == []
    replies = c.say("START")
    assert replies[0].startswith("Welcome back. Your answers were kept")
    assert c.question(replies) == "lives_with"


def test_asking_for_a_person_mid_way(carer, live):
    c = carer("+447700900306")
    c.answer_until(c.start(), stop_at="caring_tasks")
    replies = c.say("can i speak to a real person please")
    assert "asked someone from the council's carers team" in replies[0]
    assert c.question(replies) is None
    with live.db.session() as s:
        assert s.scalars(select(Handoff.reason)).all() == ["asked_for_person"]
    later = c.say("ok thanks")
    assert c.question(later) is None  # the bot stops asking


def test_delete_my_data_asks_then_erases(carer, live):
    c = carer("+447700900307")
    c.answer_until(c.start(), stop_at="cared_for_who")
    replies = c.say("delete my data")
    assert "delete everything you have told me" in replies[0]
    assert not [m for m in c.rasa_said if m.get("event") == "erase_confirmed"]
    c.say("yes")
    assert [m for m in c.rasa_said if m.get("event") == "erase_confirmed"]


def test_first_message_gets_the_privacy_notice_once(carer):
    c = carer("+447700900308")
    replies = c.say("hi")
    assert sum("stored securely" in b for b in replies) == 1 and sum("Shall we start" in b for b in replies) == 1
    assert sum("stored securely" in b for b in c.say("hello?")) == 0


def test_worker_hands_back_and_the_bot_asks_the_same_question(carer, live):
    c = carer("+447700900309")
    c.answer_until(c.start(), stop_at="cared_for_who")
    c.say("i want to talk to someone")
    with live.db.session() as s:
        sender = c.conversation(s).rasa_sender
    out = [m.get("custom") or {} for m in live.rasa.trigger(sender, "EXTERNAL_resume")]
    assert [m["say"] for m in out if "say" in m] == ["handback_carry_on", "q.cared_for_who"]


def test_answers_are_recorded_as_the_carer_meant_them(carer, live):
    c = carer("+447700900310")
    c.answer_until(c.start(), stop_at="hours_week")
    check = c.say("a few hours a day")
    assert check[-1].startswith("So about 21 hours a week, is that right?") and "1. Yes" in check[-1]
    c.answer_until(c.question(c.say("yes")), stop_at="willing_to_continue")
    c.answer_until(c.question(c.say("not like i have a choice")), stop_at="child_care")
    asked_how = c.say("yes")  # they have children; how it goes is still to ask
    assert asked_how[-1].startswith(CAT.text("q.child_care.retry")) and "6. Does not apply" in asked_how[-1]
    c.answer_until(c.question(c.say("my mum helps with them")), stop_at="work_status")
    replies = c.say("I had to give up my job to look after him")
    after_work = c.question(replies)
    assert after_work == "community", replies  # not asked how work is going: there is none
    c.answer_until(after_work, stop_at="recreation")
    c.answer_until(c.question(c.say("no")))
    with live.db.session() as s:
        conv = c.conversation(s)
        rows = {a.question_id: (a.value, a.status, a.raw) for a in s.scalars(select(Answer))}
        sheet = worksheet.for_conversation(s, conv.id)
    assert rows["hours_week"] == (21, "answered", "a few hours a day / yes")
    assert rows["willing_to_continue"] == ("no_choice", "answered", "not like i have a choice")
    assert rows["child_care"] == ("with_help", "answered", "yes / my mum helps with them")
    assert rows["work_status"][:2] == ("gave_up", "answered") and "work_impact" not in rows
    assert rows["recreation"] == ("cannot", "answered", "no")
    outcomes = {o.tag: o for o in sheet.outcomes}
    assert outcomes["reg3_work_training"].suggestion == "unable"
    assert outcomes["reg3_recreation"].suggestion == "unable"
    assert [e.raw for e in outcomes["reg3_recreation"].evidence if e.question_id == "recreation"] == ["no"]
    assert outcomes["reg3_child_care"].suggestion == "unable"


def test_an_answer_the_bot_cannot_read_reaches_the_worker_as_unclear(carer, live):
    c = carer("+447700900311")
    c.answer_until(c.start(), stop_at="home")
    assert c.question(c.say("dunno")) == "home"  # asked again, with the choices
    c.answer_until(c.question(c.say("depends on the day really")))
    with live.db.session() as s:
        conv = c.conversation(s)
        home = s.scalars(select(Answer).where(Answer.question_id == "home")).one()
        sheet = worksheet.for_conversation(s, conv.id)
    assert (home.value, home.status, home.raw) == (None, "unclear", "dunno / depends on the day really")
    line = {o.tag: o for o in sheet.outcomes}["reg3_home"]
    assert line.suggestion == "unclear"
    assert [(e.raw, e.unclear) for e in line.evidence if e.question_id == "home"] == [
        ("dunno / depends on the day really", True)]
