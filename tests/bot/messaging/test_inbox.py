"""The inbox under a flood: one number is slowed down, every message is kept, others are not held up."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.models import Message
from bot.messaging.worker import Dispatcher

FLOODER, NEIGHBOUR = "+447700900601", "+447700900602"


def drain(services) -> None:
    dispatcher = Dispatcher(services)
    while dispatcher.run_once():
        pass


def test_a_flooding_number_is_slowed_down_without_affecting_others(phone, services, twilio):
    services.settings = services.settings.with_(rate_limit_per_minute=20, rate_limit_burst=10,
                                                rate_limit_backlog_seconds=600)
    flood = phone(FLOODER)
    for n in range(300):
        assert flood.send(f"spam {n}").status_code == 200
    phone(NEIGHBOUR).send("hello")
    drain(services)
    notice = services.catalogue.text("too_many_messages")
    got = [m["body"] for m in twilio.messages(to=FLOODER)]
    # The burst is answered, then one notice; the rest waits its turn.
    assert got.count(notice) == 1
    assert [b for b in got if b != notice] == [f"got: spam {n}" for n in range(10)]
    assert [m["body"] for m in twilio.messages(to=NEIGHBOUR)] == ["got: hello"]
    with services.db.session() as s:
        stored = s.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))
        collapsed = s.scalar(select(func.count()).select_from(Message).where(Message.error_note == "collapsed"))
    assert stored == 301  # never lose a message
    assert 80 <= collapsed <= 100  # beyond ten minutes of backlog: kept, not answered
    # Time passes: the queue drains at the set pace, in order, with no second notice.
    services.clock.advance(minutes=5)
    drain(services)
    got = [m["body"] for m in twilio.messages(to=FLOODER) if m["body"] != notice]
    assert 100 <= len(got) <= 112
    assert got == [f"got: spam {n}" for n in range(len(got))]
    services.clock.advance(minutes=10)
    drain(services)
    got = [m["body"] for m in twilio.messages(to=FLOODER)]
    assert got.count(notice) == 1 and len(got) == 300 - collapsed + 1


def test_an_ordinary_conversation_is_never_slowed(phone, services, twilio):
    p = phone("+447700900603")
    for n in range(10):
        p.send(f"answer {n}")
        drain(services)
        services.clock.advance(seconds=20)
    assert [m["body"] for m in twilio.messages(to=p.address)] == [f"got: answer {n}" for n in range(10)]


def test_a_new_numbers_first_two_messages_at_once_make_one_carer_and_both_are_kept(services, database_url):
    import threading
    import uuid

    from bot.messaging import inbox
    from bot.models import Carer, Conversation

    if database_url.startswith("sqlite"):
        import pytest
        pytest.skip("SQLite lets one writer in at a time: the two cannot race")
    gate = threading.Barrier(2)
    results = []

    def webhook(text):
        incoming = inbox.IncomingMessage(message_sid="SM" + uuid.uuid4().hex, account_sid="AC", body=text,
                                         from_address="+447700900777", to_address="+447700900000")

        def store(session):
            gate.wait()
            return inbox.store(session, services, incoming)

        results.append(services.db.run(store))

    threads = [threading.Thread(target=webhook, args=(t,)) for t in ("hello", "are you there")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 2 and None not in results  # neither was taken for a duplicate
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Carer)) == 1
        assert s.scalar(select(func.count()).select_from(Conversation)) == 1
        assert sorted(s.scalars(select(Message.body)).all()) == ["are you there", "hello"]


def test_the_start_up_warm_up_leaves_nothing_behind_and_the_first_carer_is_answered(phone, services, twilio):
    from bot.messaging import inbox
    from bot.models import Carer, Conversation

    inbox.warm_up(services)
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Carer)) == 0
        assert s.scalar(select(func.count()).select_from(Conversation)) == 0
        assert s.scalar(select(func.count()).select_from(Message)) == 0
    assert services.wake is None  # no worker is left pointed at a made-up number
    p = phone("+447700900604")
    p.send("hello")
    drain(services)
    assert [m["body"] for m in twilio.messages(to=p.address)] == ["got: hello"]


def test_a_gateway_starts_when_the_database_is_not_up_yet(services, caplog):
    from bot.messaging import inbox
    from bot.db import Database

    services.db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    inbox.warm_up(services)  # no exception: the gateway still starts and says so
    assert "warm-up skipped" in caplog.text
