"""Worker threads: they wake when a paced message falls due, a carer's message jumps a batch, they share one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.messaging import outbox
from bot.models import Carer, Message
from bot.messaging.worker import Dispatcher


def queue_for(services, n: int, *, after: timedelta = timedelta(0), phone_base: int = 900400) -> list[int]:
    now = services.clock.now()
    ids = []
    with services.db.session() as s:
        for i in range(n):
            carer = Carer(phone=f"+447700{phone_base + i}", channel="sms", created_at=now)
            s.add(carer)
            s.flush()
            ids.append(outbox.enqueue(s, now, carer=carer, body=f"news {i}", kind="reminder",
                                      not_before=now + after if after else None).id)
    return ids


def test_an_idle_worker_sleeps_until_the_next_paced_message_not_a_whole_poll(services):
    dispatcher = Dispatcher(services, poll_seconds=1.0)
    assert dispatcher._idle_wait() == 1.0  # nothing waiting: the slow poll
    queue_for(services, 1, after=timedelta(milliseconds=40))
    assert 0.035 <= dispatcher._idle_wait() <= 0.04  # wakes for the slot, 40 ms away
    services.clock.advance(seconds=2)
    assert dispatcher._idle_wait() == 1.0  # already due: run_once sends it; no busy loop on it


def test_a_carers_message_waiting_its_turn_wakes_a_worker_when_due(services, phone):
    services.settings = services.settings.with_(rate_limit_per_minute=60, rate_limit_burst=1)
    dispatcher = Dispatcher(services, poll_seconds=3.0)
    p = phone("+447700900411")
    p.send("one")
    p.send("two")  # past the burst: waits its turn, a second from now
    wait = dispatcher._idle_wait()
    assert 0.5 <= wait <= 1.0


def test_a_carers_message_is_not_kept_waiting_behind_a_batch_of_sends(services, twilio, phone):
    queue_for(services, 6)
    dispatcher = Dispatcher(services)
    sent_before_the_hint = []

    def hint_after_second_send(session, message):
        sent_before_the_hint.append(message.id)
        if len(sent_before_the_hint) == 2:
            dispatcher.wake(123)  # a carer's message was just stored by the web app

    services.outbox.on_settled.append(hint_after_second_send)
    assert services.outbox.send_due(interrupted=lambda: not dispatcher._hints.empty()) == 2
    with services.db.session() as s:
        states = s.scalars(select(Message.state).where(Message.direction == "out").order_by(Message.id)).all()
    assert states == ["sent", "sent", "pending", "pending", "pending", "pending"]  # the rest wait a moment


def test_workers_take_their_own_share_of_a_batch_first_and_stop_where_another_has_been(services, twilio):
    ids = queue_for(services, 7)
    dispatcher = Dispatcher(services, threads=3)
    snapshot = services.outbox.due()
    services.outbox.due = lambda limit=100: snapshot  # what every worker read at the same moment
    tried, attempt = [], services.outbox._send_if_claimed
    services.outbox._send_if_claimed = lambda message_id: tried.append(message_id) or attempt(message_id)
    assert dispatcher.run_once(share=(1, 3)) == 7  # alone: every third from the second, then the rest
    assert tried == [ids[1], ids[4], ids[0], ids[2], ids[3], ids[5], ids[6]]
    tried.clear()
    assert dispatcher.run_once(share=(2, 3)) == 0  # a worker too late: its own share went already
    assert tried == [ids[2], ids[5], ids[0]]  # so it stops at the first of the rest another has taken
    assert sorted(m["to"] for m in twilio.messages()) == [f"+447700{900400 + i}" for i in range(7)]


def test_a_busy_workers_share_is_taken_by_an_idle_one(services, twilio):
    queue_for(services, 4)
    dispatcher = Dispatcher(services, threads=2)
    # Worker 0 is in the middle of a carer's turn (a long Rasa call): worker 1 sends its share, then the rest.
    assert dispatcher.run_once(share=(1, 2)) == 4
    assert len(twilio.messages()) == 4
    assert services.outbox.due() == []
