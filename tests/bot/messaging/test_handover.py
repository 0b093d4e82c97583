"""The webhook hands a carer's message straight to its own process's worker: once, in order, never lost."""

from __future__ import annotations

import logging

from sqlalchemy import event, select

from bot.timing import reminders
from bot.models import Carer, Message
from bot.messaging.worker import Dispatcher


def sent_bodies(twilio, to=None):
    return [m["body"] for m in twilio.messages(to=to)]


class Hints:
    """What a running Dispatcher would be woken with, kept so the test decides when the worker runs."""

    def __init__(self, services):
        self.got: list[tuple[int, object]] = []
        services.wake = lambda carer_id=None, claim=None: self.got.append((carer_id, claim))

    def pop(self):
        return self.got.pop(0)


def inbound(services):
    with services.db.session() as s:
        return s.execute(select(Message.body, Message.state, Message.attempts)
                         .where(Message.direction == "in").order_by(Message.id)).all()


def answer_then_die_before_writing(services, phone, monkeypatch) -> None:
    """A carer's "hello" is handed over, answered and its reply sent; the process dies before the turn is written."""
    hints = Hints(services)
    phone().send("hello")
    carer_id, claim = hints.pop()

    def crash(*args):
        raise RuntimeError("the process died")

    monkeypatch.setattr(services.conversations, "_finish", crash)  # after the send, before the write
    try:
        Dispatcher(services).handle_hint(carer_id, claim)
    except RuntimeError:
        pass
    monkeypatch.undo()


def test_a_message_handed_over_goes_to_rasa_with_no_statement_first_and_is_answered_once(
        services, phone, rasa, twilio):
    hints = Hints(services)
    phone().send("hello")
    carer_id, claim = hints.pop()
    assert claim is not None
    assert inbound(services) == [("hello", "processing", 1)]  # stored as the worker's first attempt
    with services.db.session() as s:
        assert s.get(Carer, carer_id).lease_owner == claim.owner

    statements = []
    event.listen(services.db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    before_rasa, asked_what_was_answered = [], []
    reply, replies_after = rasa.reply, rasa.replies_after
    rasa.reply = lambda *a: (before_rasa.append(len(statements)), reply(*a))[1]
    rasa.replies_after = lambda *a: (asked_what_was_answered.append(a), replies_after(*a))[1]
    send, before_send = services.outbox.sender.send, []
    services.outbox.sender.send = lambda *a: (before_send.append(len(statements)), send(*a))[1]
    Dispatcher(services).handle_hint(carer_id, claim)

    assert before_rasa == [0]  # straight to Rasa: the reply path has no transaction before it
    assert before_send == [0]  # and from Rasa's answer straight to Twilio: the turn is written after
    assert asked_what_was_answered == []  # a first attempt, not a retry after a crash
    assert sent_bodies(twilio) == ["got: hello"]
    with services.db.session() as s:
        assert s.get(Carer, carer_id).lease_owner is None  # released for the next message
    assert [state for _, state, _ in inbound(services)] == ["done"]


def test_no_hand_over_while_an_earlier_message_waits_and_both_are_answered_in_order(
        services, phone, rasa, twilio, clock):
    hints = Hints(services)
    p = phone()
    rasa.down = True
    p.send("first")
    Dispatcher(services).handle_hint(*hints.pop())  # Rasa is down: "first" waits with a backoff
    p.send("second")
    _, claim = hints.pop()
    assert claim is None  # "first" is still waiting: "second" must not jump it
    assert inbound(services)[1][1:] == ("pending", 0)
    rasa.down = False
    clock.advance(seconds=60)
    Dispatcher(services).run_once()
    assert sent_bodies(twilio) == ["got: first", "got: second"]


def test_no_hand_over_while_another_worker_holds_the_carer(services, phone, rasa, twilio, clock):
    hints = Hints(services)
    p = phone()
    p.send("one")
    carer_id, first = hints.pop()
    assert services.conversations._lease(carer_id, "another-worker") is False  # the hand-over holds it
    Dispatcher(services).handle_hint(carer_id, first)
    assert services.conversations._lease(carer_id, "another-worker")
    p.send("two")
    assert hints.pop()[1] is None
    services.conversations._release(carer_id, "another-worker")
    Dispatcher(services).run_once()
    assert sent_bodies(twilio) == ["got: one", "got: two"]


def test_a_hand_over_that_waited_in_the_queue_renews_its_lease_first(services, phone, rasa, twilio, clock):
    hints = Hints(services)
    phone().send("late")
    carer_id, claim = hints.pop()
    clock.advance(seconds=services.settings.lease_seconds * 0.75)  # the worker threads were all busy
    Dispatcher(services).handle_hint(carer_id, claim)
    assert sent_bodies(twilio) == ["got: late"]


def test_a_hand_over_lost_with_its_process_is_answered_once_when_the_lease_runs_out(
        services, phone, rasa, twilio, clock):
    hints = Hints(services)
    phone().send("are you there")
    hints.pop()  # the process died before its worker took it
    Dispatcher(services).run_once()
    assert sent_bodies(twilio) == []  # the lease still holds: no second worker steps in yet
    clock.advance(seconds=services.settings.lease_seconds + 1)
    Dispatcher(services).run_once()
    Dispatcher(services).run_once()
    assert sent_bodies(twilio) == ["got: are you there"]
    assert len(rasa.seen) == 1


def test_reminder_bookkeeping_runs_after_the_reply_and_its_failure_loses_nothing(
        services, phone, rasa, twilio, caplog, monkeypatch):
    hints = Hints(services)
    rasa.reply = lambda sender, text, metadata: [
        {"text": "Thanks. Next question."},
        {"custom": {"event": "progress", "section": "about_you", "done": 1, "total": 9}}]
    sent_at_scheduling = []
    schedule = reminders.schedule_nudges

    def failing_schedule(session, *args):
        sent_at_scheduling.append(len(twilio.messages()))
        raise RuntimeError("database went away")

    monkeypatch.setattr(reminders, "schedule_nudges", failing_schedule)
    with caplog.at_level(logging.ERROR):
        phone().send("my answer")
        Dispatcher(services).handle_hint(*hints.pop())
    assert sent_at_scheduling == [1]  # the reply had left before the reminders were touched
    assert sent_bodies(twilio) == ["Thanks. Next question."]
    assert [state for _, state, _ in inbound(services)] == ["done"]
    assert "work after a reply failed" in caplog.text

    monkeypatch.setattr(reminders, "schedule_nudges", schedule)
    phone().send("my next answer")
    Dispatcher(services).handle_hint(*hints.pop())
    with services.db.session() as s:
        assert s.scalars(select(reminders.Reminder).where(reminders.Reminder.state == "pending")).all()


def test_a_reply_sent_before_its_turn_was_written_is_not_sent_again_after_a_crash(
        services, phone, rasa, twilio, clock, monkeypatch):
    answer_then_die_before_writing(services, phone, monkeypatch)
    assert sent_bodies(twilio) == ["got: hello"]
    with services.db.session() as s:
        assert s.scalars(select(Message).where(Message.direction == "out")).all() == []  # nothing written

    clock.advance(seconds=services.settings.lease_seconds + 1)
    Dispatcher(services).run_once()
    Dispatcher(services).run_once()
    assert sent_bodies(twilio) == ["got: hello"]  # found at Twilio, not sent twice
    assert len(rasa.seen) == 1  # Rasa was asked what it had answered, not asked again
    with services.db.session() as s:
        reply = s.scalars(select(Message).where(Message.direction == "out")).one()
        assert (reply.state, reply.twilio_sid) == ("sent", twilio.messages()[0]["sid"])
    assert [state for _, state, _ in inbound(services)] == ["done"]


def test_a_reply_never_overtakes_what_already_waits_for_the_carer(services, phone, rasa, twilio, clock):
    hints = Hints(services)
    p = phone()
    twilio.set_faults(rate_limit=1)  # Twilio turns the first reply away for now: it waits with a backoff
    p.send("first")
    Dispatcher(services).handle_hint(*hints.pop())
    assert sent_bodies(twilio) == []
    p.send("second")
    carer_id, claim = hints.pop()
    assert claim is not None and claim.outbox_clear is False
    Dispatcher(services).handle_hint(carer_id, claim)
    assert sent_bodies(twilio) == []  # "got: second" waits behind "got: first"
    clock.advance(seconds=600)
    while Dispatcher(services).run_once():  # as a worker thread does: until nothing is left
        pass
    assert sent_bodies(twilio) == ["got: first", "got: second"]


def test_a_turn_its_worker_leased_itself_also_sends_its_first_reply_before_writing(services, phone, rasa, twilio):
    hints = Hints(services)
    p = phone()
    p.send("one")
    carer_id, first = hints.pop()
    p.send("two")  # the hand-over holds the carer: no hand-over for this one, the worker loops to it
    assert hints.pop()[1] is None

    statements, answered_at, sent_at = [], [], []
    event.listen(services.db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    reply, send = rasa.reply, services.outbox.sender.send
    rasa.reply = lambda *a: (reply(*a), answered_at.append(len(statements)))[0]
    services.outbox.sender.send = lambda *a: (sent_at.append(len(statements)), send(*a))[1]
    Dispatcher(services).handle_hint(carer_id, first)  # "one" as handed over, then "two" the worker's own way

    assert sent_bodies(twilio) == ["got: one", "got: two"]
    assert answered_at[1] > answered_at[0]  # "two" began with its own lease and read
    assert sent_at == answered_at  # for both, nothing was written between Rasa's answer and the Twilio call


def test_a_reply_sent_before_a_crash_is_not_sent_again_even_when_rasa_forgot_it(
        services, phone, rasa, twilio, clock, monkeypatch):
    answer_then_die_before_writing(services, phone, monkeypatch)
    rasa.answered.clear()  # Rasa's tracker went with the crash: it is asked again, and answers the same
    clock.advance(seconds=services.settings.lease_seconds + 1)
    Dispatcher(services).run_once()
    Dispatcher(services).run_once()
    assert len(rasa.seen) == 2
    assert sent_bodies(twilio) == ["got: hello"]  # the same reply found at Twilio: not sent twice
