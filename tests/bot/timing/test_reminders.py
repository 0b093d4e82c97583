"""Reminders over days: the schedule, cancelling, restarts, two schedulers, and WhatsApp's 24-hour window."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.timing import reminders as reminders_mod
from bot import services as services_mod
from bot.catalogue import default_catalogue, is_gsm7, segments
from bot.messaging.inbox import IncomingMessage, receive
from bot.models import Carer, Message
from bot.messaging.outbox import record_status
from bot.timing.reminders import Reminder, allow_sms_fallback, tick

LONDON = ZoneInfo("Europe/London")
CARER = "+447700900123"
# The last nudge's first sentence: it says no more will come.
LAST = "Your carer's assessment is saved and we will not remind you again"
TEMPLATE = "HX" + "0123456789abcdef" * 2


class AssessmentRasa:
    """A dialogue model that behaves like ours at the edges reminders care about: it asks, pauses, finishes."""

    def __init__(self):
        self.seen = []

    def reply(self, sender, text, metadata):
        self.seen.append(text)
        word = text.strip().lower()
        if word.startswith("window:"):
            return [{"custom": {"event": "contact_window", "window": text.split(":", 1)[1].strip()}},
                    {"text": "Thanks, we will only remind you then."}]
        if word == "bye":
            return [{"custom": {"event": "paused"}}, {"text": "Take care. Your answers are saved."}]
        if word.startswith("pause:"):
            return [{"custom": {"event": "paused", "when": text.split(":", 1)[1].strip()}},
                    {"text": "I will send you a reminder then."}]
        if word == "bereaved":
            return [{"custom": {"event": "handoff", "reason": "bereavement"}},
                    {"custom": {"event": "life_event", "kind": "bereavement"}}, {"text": "I am so sorry."}]
        if word == "done":
            return [{"custom": {"event": "progress", "section": "plans", "done": 25, "total": 25}},
                    {"custom": {"event": "completed"}}, {"text": "Thank you, that is everything."}]
        return [{"custom": {"event": "progress", "section": "health", "done": 10, "total": 25}},
                {"text": "How is your own health at the moment?"}]

    def trigger(self, sender, intent, entities=None):
        return []

    def new_session(self, sender):
        pass

    def replies_after(self, sender, message_key):
        return None

    def healthy(self):
        return True


@pytest.fixture
def rasa():
    return AssessmentRasa()


def says(services, text, number=CARER, channel="sms"):
    """The carer texts; the gateway stores it and a worker handles it, as in production."""
    address = f"whatsapp:{number}" if channel == "whatsapp" else number
    sid = "SM" + datetime.now().strftime("%f") + str(id(text))[-8:] + text[:4].encode().hex()
    incoming = IncomingMessage(message_sid=sid,
                               account_sid=services.settings.twilio_account_sid, from_address=address,
                               to_address=services.settings.twilio_sms_from, body=text)
    with services.db.session() as session:
        assert receive(session, incoming, services.clock) is not None
    services.conversations.process_due()


def reminders_received(twilio, to=CARER):
    """What the stand-in accepted for the carer that came from a reminder (not the bot's replies)."""
    catalogue = default_catalogue()
    starts = tuple(catalogue.text(k).split("{")[0][:20] for k in
                   ("reminder.nudge1", "reminder.nudge2", "reminder.last", "reminder.review", "reminder.nudge"))
    return [m for m in twilio.messages(to) if m["body"].startswith(starts)]


def move_through(services, clock, until, step=timedelta(minutes=30)):
    """Move the clock in steps, ticking like the scheduler; returns (clock time, bodies) per send."""
    sends = []
    while clock.now() < until:
        clock.advance(seconds=step.total_seconds())
        result = tick(services)
        if result.sent:
            sends.append((clock.now(), result.sent))
    return sends


def rows(services):
    with services.db.session() as session:
        return session.scalars(select(Reminder).order_by(Reminder.id)).all()


def test_quiet_carer_gets_three_nudges_in_allowed_hours_then_nothing(services, clock, twilio):
    clock.set(datetime(2026, 11, 26, 22, 30, tzinfo=timezone.utc))  # texts late, after the person is asleep
    says(services, "Tired today")
    sends = move_through(services, clock, clock.now() + timedelta(days=40))
    got = reminders_received(twilio)
    assert [m["body"].split(".")[0] for m in got] == [
        "Hello again from CarerText", "Just checking in", LAST]
    assert "your own health" in got[0]["body"] and "your own health" in got[1]["body"]
    # 1d, 3d and 7d after 22:30 fall in quiet hours: each waits for 08:00 UK time, never sent at night.
    assert [t for t, _ in sends] == [datetime(2026, 11, 28, 8, 0, tzinfo=timezone.utc),
                                     datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc),
                                     datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)]
    assert [(r.kind, r.state) for r in rows(services)] == [("nudge1", "sent"), ("nudge2", "sent"), ("last", "sent")]


def test_a_reply_cancels_the_rest_and_the_schedule_starts_from_it(services, clock, twilio):
    says(services, "Hello")  # Thursday 10:00
    move_through(services, clock, clock.now() + timedelta(days=1, hours=1))
    assert len(reminders_received(twilio)) == 1
    says(services, "Sorry, busy week")  # Friday 11:00
    reply_at = clock.now()
    move_through(services, clock, reply_at + timedelta(hours=23))
    assert len(reminders_received(twilio)) == 1  # the old nudge2 (Sunday) is gone and the new one not yet due
    move_through(services, clock, reply_at + timedelta(days=8))
    assert len(reminders_received(twilio)) == 4
    states = [(r.kind, r.state, r.reason) for r in rows(services)]
    assert states[:3] == [("nudge1", "sent", None), ("nudge2", "cancelled", "carer_replied"),
                          ("last", "cancelled", "carer_replied")]
    assert [r.anchor_at.replace(tzinfo=timezone.utc) for r in rows(services)[3:]] == [reply_at] * 3


def test_opted_out_carer_gets_nothing_until_they_opt_back_in(services, clock, twilio):
    says(services, "Hello")
    says(services, "STOP")
    move_through(services, clock, clock.now() + timedelta(days=10), step=timedelta(hours=2))
    assert reminders_received(twilio) == []
    says(services, "START")
    move_through(services, clock, clock.now() + timedelta(days=2), step=timedelta(hours=2))
    assert len(reminders_received(twilio)) == 1


def test_contact_window_moves_nudges_to_the_carers_time(services, clock, twilio):
    says(services, "window: weekends only")  # Thursday 26 Nov
    says(services, "Fine thanks")
    sends = move_through(services, clock, clock.now() + timedelta(days=2))
    assert [t for t, _ in sends] == [datetime(2026, 11, 28, 8, 0, tzinfo=timezone.utc)]  # Saturday, 08:00
    says(services, "window: evenings")  # changed their mind on Saturday morning
    sends = move_through(services, clock, clock.now() + timedelta(days=2))
    assert [t for t, _ in sends] == [datetime(2026, 11, 29, 17, 0, tzinfo=timezone.utc)]  # Sunday evening


def test_paused_carer_gets_nudges_and_completion_brings_a_review(services, clock, twilio):
    services.settings = services.settings.with_(review_after="365d")
    says(services, "Hello")
    says(services, "bye")
    move_through(services, clock, clock.now() + timedelta(days=1, hours=1))
    assert len(reminders_received(twilio)) == 1
    says(services, "done")
    move_through(services, clock, clock.now() + timedelta(days=364), step=timedelta(hours=12))
    assert len(reminders_received(twilio)) == 1  # completion cancelled the rest of the nudges
    move_through(services, clock, clock.now() + timedelta(days=2), step=timedelta(hours=1))
    got = reminders_received(twilio)
    assert len(got) == 2 and "review" in got[1]["body"]


def test_a_pause_with_a_time_brings_the_first_nudge_then_and_the_rest_after_it(services, clock, twilio):
    says(services, "Hello")  # Thursday 10:00
    says(services, "pause: can you text me tomorrow evening")
    sends = move_through(services, clock, clock.now() + timedelta(days=9))
    # Friday 18:30, then the schedule's spacing from there (3d - 1d, 7d - 1d), each out of quiet hours.
    assert [t for t, _ in sends] == [datetime(2026, 11, 27, 18, 30, tzinfo=timezone.utc),
                                     datetime(2026, 11, 29, 18, 30, tzinfo=timezone.utc),
                                     datetime(2026, 12, 3, 18, 30, tzinfo=timezone.utc)]


def test_a_time_in_quiet_hours_waits_for_the_morning(services, clock, twilio):
    says(services, "Hello")
    says(services, "pause: tonight after 10")
    sends = move_through(services, clock, clock.now() + timedelta(days=1, hours=1))
    assert [t for t, _ in sends] == [datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)]


def test_a_pause_without_a_time_keeps_the_usual_schedule(services, clock, twilio):
    says(services, "Hello")
    says(services, "pause: sorry got to go")
    sends = move_through(services, clock, clock.now() + timedelta(days=1, hours=1))
    assert [t for t, _ in sends] == [datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)]


def test_a_bereavement_stops_every_reminder_for_good(services, clock, twilio):
    says(services, "Hello")
    says(services, "bereaved")
    move_through(services, clock, clock.now() + timedelta(days=10), step=timedelta(hours=2))
    assert reminders_received(twilio) == []
    assert {r.state for r in rows(services)} == {"cancelled"}
    with services.db.session() as session:
        from bot.models import Conversation, Handoff
        assert session.scalars(select(Conversation.assessment_status)).one() == "ended"
        assert session.scalars(select(Handoff.urgency).where(Handoff.reason == "bereavement")).one() == "soon"


def test_restart_in_the_middle_loses_nothing_and_duplicates_nothing(settings, clock, rasa, twilio):
    first = services_mod.build(settings, clock=clock, rasa=rasa)
    says(first, "Hello")
    clock.advance(days=1, minutes=1)
    assert tick(first, send=False).handed == 1  # handed to the outbox, then the process is killed
    first.db.engine.dispose()
    second = services_mod.build(settings, clock=clock, rasa=rasa)
    move_through(second, clock, clock.now() + timedelta(days=8))
    move_through(first, clock, clock.now() + timedelta(days=1))  # the old one still running by mistake
    assert len(reminders_received(twilio)) == 3
    assert [r.state for r in rows(second)] == ["sent", "sent", "sent"]
    second.db.engine.dispose()


def test_two_schedulers_at_once_send_each_reminder_once(settings, clock, rasa, twilio):
    numbers = [f"+4477009{n:05d}" for n in range(12)]
    one = services_mod.build(settings, clock=clock, rasa=rasa)
    two = services_mod.build(settings, clock=clock, rasa=rasa)
    for number in numbers:
        says(one, "Hello", number=number)
    clock.advance(days=1, minutes=1)
    start = threading.Barrier(2)
    errors = []

    def run(services):
        try:
            start.wait()
            for _ in range(3):
                tick(services)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in (one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(m["to"] for n in numbers for m in reminders_received(twilio, n)) == sorted(numbers)
    # The row claim alone (no advisory lock) also gives each reminder to one of them.
    says(one, "Hello", number=numbers[0])
    clock.advance(days=1, minutes=1)
    pending = [r.id for r in rows(one) if r.state == "pending" and r.kind == "nudge1"]
    assert [one.reminders._hand_over([pending[0]]), two.reminders._hand_over([pending[0]])] == [["sent"], []]
    one.db.engine.dispose()
    two.db.engine.dispose()


# -- WhatsApp's 24-hour window ---------------------------------------------------------------------


def whatsapp(services, **changes):
    services.settings = services.settings.with_(reminder_schedule="2h,30h,50h", **changes)
    services.outbox.settings = services.reminders.settings = services.reminders.routes.settings = services.settings
    services.reminders.pacing = reminders_mod.Pacing.from_settings(services.settings)
    return services


def sent_forms(twilio, to):
    return [r.form for r in twilio.state.requests if r.method == "POST" and r.form.get("To") == [to]]


def test_inside_the_window_free_text_outside_the_template(services, clock, twilio):
    whatsapp(services, whatsapp_reminder_content_sid=TEMPLATE)
    says(services, "Hello", channel="whatsapp")
    move_through(services, clock, clock.now() + timedelta(hours=31))
    forms = sent_forms(twilio, f"whatsapp:{CARER}")[1:]  # after the bot's reply
    assert "Body" in forms[0] and "ContentSid" not in forms[0]  # nudge 1 at +2h: inside the window
    assert forms[1]["ContentSid"] == [TEMPLATE] and "Body" not in forms[1]  # nudge 2 at +30h: outside
    assert json.loads(forms[1]["ContentVariables"][0]) == {"1": "your own health"}
    assert [r.route for r in rows(services)][:2] == ["whatsapp", "template"]


def test_no_template_falls_back_to_sms_only_when_allowed(services, clock, twilio):
    whatsapp(services)
    says(services, "Hello", channel="whatsapp")  # first texted by WhatsApp: SMS not assumed
    move_through(services, clock, clock.now() + timedelta(hours=31))
    assert [(r.kind, r.state, r.reason) for r in rows(services)][:2] == [
        ("nudge1", "sent", None), ("nudge2", "skipped", "whatsapp_window_no_template_no_sms")]
    assert twilio.messages(CARER) == []
    with services.db.session() as session:
        allow_sms_fallback(session, session.scalars(select(Carer)).one(), True, clock.now())
    move_through(services, clock, clock.now() + timedelta(hours=20))
    assert [m["body"].split(".")[0] for m in twilio.messages(CARER)] == [LAST]


def test_63016_at_create_sends_the_template_instead(services, clock, twilio):
    whatsapp(services, whatsapp_reminder_content_sid=TEMPLATE)
    says(services, "Hello", channel="whatsapp")
    twilio.set_faults(window_closed=[f"whatsapp:{CARER}"], window_mode="create")
    move_through(services, clock, clock.now() + timedelta(hours=3))
    verdicts = [(r.code, "ContentSid" in r.form) for r in twilio.state.requests if r.method == "POST"][1:]
    assert verdicts == [(63016, False), (None, True)]  # refused free text once, then the template
    assert rows(services)[0].route == "template"


def test_63016_in_a_callback_falls_back_to_sms_for_an_sms_carer(services, clock, twilio):
    whatsapp(services)
    says(services, "Hello")  # first contact by SMS: SMS fallback allowed
    says(services, "Hello again", channel="whatsapp")
    twilio.set_faults(window_closed=[f"whatsapp:{CARER}"], window_mode="callback")
    move_through(services, clock, clock.now() + timedelta(hours=2, minutes=30))
    with services.db.session() as session:
        first = session.scalars(select(Message).where(Message.kind == "reminder")).one()
        # What the status webhook records when Twilio's callback says failed, 63016.
        record_status(session, clock.now(), first.twilio_sid, "failed", 63016)
    move_through(services, clock, clock.now() + timedelta(minutes=30))
    assert [m["body"].split(".")[0] for m in twilio.messages(CARER)][-1] == "Hello again from CarerText"
    assert [r.route for r in rows(services) if r.state == "sent"] == ["sms"]


# -- the words -------------------------------------------------------------------------------------


def test_reminder_texts_are_gsm7_and_at_most_two_segments():
    catalogue = default_catalogue()
    keys = [k for k in catalogue.texts["en"] if k.startswith("reminder.")]
    sections = [catalogue.text(k) for k in keys if k.startswith("reminder.section.")]
    longest = max(sections, key=len)
    for key in keys:
        body = catalogue.text(key, section=longest) if "{section}" in catalogue.text(key) else catalogue.text(key)
        assert is_gsm7(body), key
        assert segments(body) <= 2, key


def test_on_postgres_a_second_scheduler_stands_by_while_one_ticks(services, clock, rasa):
    if not services.db.is_postgres:
        pytest.skip("advisory locks are PostgreSQL's; SQLite relies on the row claims alone")
    other = services_mod.build(services.settings, clock=clock, rasa=rasa)
    with services.reminders._only_scheduler() as active:
        assert active
        assert tick(other).active is False
    assert tick(other).active is True
    other.db.engine.dispose()
