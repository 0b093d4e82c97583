"""The carer's assessment end to end: signed webhooks in, the real Rasa server, replies at Twilio's stand-in.

The gateway's clock is a FakeClock: each carer message is stored with its time, and the gateway tells Rasa how
long the carer was away (metadata resumed_after_hours), so days pass in one line.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot import services as services_mod
from bot.duty.assessment import assessment_record
from bot.catalogue import default_catalogue
from bot.models import Answer, Conversation, Handoff, Message
from bot.messaging.worker import Dispatcher

pytestmark = pytest.mark.rasa

CAT = default_catalogue()
# A reply that fits each question, in the ways carers text.
REPLY = {"name": "call me Jo", "contact_times": "evenings", "cared_for_who": "my mum",
         "cared_for_needs": "dementia and a bad hip", "lives_with": "yep", "caring_tasks": "washing meals meds",
         "hours_week": "about forty hrs a wk", "nights": "most nights", "willing_to_continue": "2",
         "able_in_future": "not sure", "physical_health": "4", "mental_health": "5",
         "health_detail": "bad back and no sleep", "child_care": "4", "caring_for_others": "4", "home": "2",
         "nutrition": "1", "home_life_detail": "no time to clean or cook", "relationships": "2", "work_status": "1",
         "work_impact": "3", "community": "1", "recreation": "3", "your_life_detail": "never any time for me",
         "what_would_help": "help at home and a day off each week", "family_friends": "my sister on sundays",
         "local_groups": "no", "involve_others": "no", "contingency_plan": "nope", "gp_knows": "yes",
         "anything_else": "no thats all"}
QUESTION_TEXT = sorted(((CAT.text(f"q.{q}{s}"), q) for q in REPLY for s in ("", ".retry")),
                       key=lambda t: -len(t[0]))


@pytest.fixture
def live(settings, rasa_server, twilio, clock):
    """The gateway wired to the real Rasa server, on the test's FakeClock."""
    built = services_mod.build(settings.with_(rasa_url=rasa_server.url), clock=clock)
    dispatcher = Dispatcher(built, threads=2, poll_seconds=0.2).start()
    yield built
    dispatcher.stop()
    built.db.engine.dispose()


class Chat:
    """One carer texting the gateway; `say` waits for every reply to that message."""

    def __init__(self, live, phone, twilio, number):
        from webhooks import create_app

        self.live, self.twilio = live, twilio
        self.phone = phone(number)
        self.phone.client = create_app(services=live).test_client()
        self.seen = 0
        self.rasa_said: list[dict] = []
        reply = live.rasa.reply

        def recording(sender, text, metadata):
            out = reply(sender, text, metadata)
            self.rasa_said += [m.get("custom") or {} for m in out]
            return out
        live.rasa.reply = recording

    def say(self, text: str, timeout: float = 30.0) -> list[str]:
        sid = "SM" + __import__("uuid").uuid4().hex
        self.live.clock.advance(seconds=30)  # a carer types at a human pace (and per-number flood control)
        assert self.phone.send(text, sid=sid).status_code == 200
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.live.db.session() as s:
                msg = s.scalars(select(Message).where(Message.twilio_sid == sid)).first()
                if msg is not None and msg.state == "done":
                    out = s.scalars(select(Message).where(Message.carer_id == msg.carer_id,
                                                          Message.direction == "out")).all()
                    if all(m.state not in ("pending", "queued", "sending") for m in out) \
                            and len(self.twilio.messages(to=self.phone.address)) >= sum(1 for m in out if m.twilio_sid):
                        break
            time.sleep(0.05)
        else:
            raise AssertionError(f"no answer to {text!r}")
        bodies = [m["body"] for m in self.twilio.messages(to=self.phone.address)]
        new, self.seen = bodies[self.seen:], len(bodies)
        return new

    def question(self, bodies: list[str]) -> str | None:
        """The question the last of these messages asks, if any."""
        for body in reversed(bodies):
            for text, qid in QUESTION_TEXT:
                if body.startswith(text):
                    return qid
        return None

    def start(self) -> str:
        assert "Shall we start?" in " ".join(self.say("hi"))
        return self.question(self.say("yes"))

    def answer_until(self, qid: str | None, stop_at: str | None = None, on_each=None) -> str | None:
        for _ in range(60):  # a bound, so a loop in the dialogue fails instead of hanging
            if qid is None or qid == stop_at:
                break
            replies = self.say(REPLY[qid])
            if on_each:
                on_each(qid, replies)
            nxt = self.question(replies)
            assert nxt != qid or qid in ("name",), f"stuck on {qid}: {replies}"
            qid = nxt
        else:
            raise AssertionError(f"the assessment did not end; last question {qid}")
        return qid

    def conversation(self, s) -> Conversation:
        return s.scalars(select(Conversation)).one()


@pytest.fixture
def carer(live, phone, twilio):
    def make(number: str = "+447700900301") -> Chat:
        return Chat(live, phone, twilio, number)
    return make


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
    assert [m.get("say") for m in out] == ["handback_carry_on", "q.cared_for_who"]
