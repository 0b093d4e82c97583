"""The claims scale-out rests on, raced directly: a carer's lease and an outbound row's claim."""

from __future__ import annotations

import threading

import pytest

from bot.messaging import outbox
from bot.messaging.inbox import IncomingMessage, receive

pytestmark = pytest.mark.scale


def race(n: int, fn) -> list:
    """Run fn in n threads released together; return their results."""
    barrier, results, lock = threading.Barrier(n), [], threading.Lock()

    def run():
        barrier.wait()
        got = fn()
        with lock:
            results.append(got)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _carer(services):
    with services.db.session() as s:
        msg = receive(s, IncomingMessage("SM" + "a" * 32, services.settings.twilio_account_sid, "+447700900555",
                                         services.settings.twilio_sms_from, "hello"), services.clock)
        return msg.carer_id, msg.conversation_id


def test_only_one_thread_of_a_process_holds_a_carer(services):
    # Threads of one process share one Conversations: the lease must still name the thread, or two
    # worker threads handle the same message at once and the carer gets the reply twice.
    carer_id, _ = _carer(services)
    results = race(8, lambda: services.conversations._lease(carer_id))
    assert sorted(results) == [False] * 7 + [True]


def test_a_thread_keeps_and_renews_its_own_lease(services):
    carer_id, _ = _carer(services)
    assert services.conversations._lease(carer_id)
    assert services.conversations._lease(carer_id)  # renewal by the holder
    assert race(1, lambda: services.conversations._lease(carer_id)) == [False]
    services.conversations._release(carer_id)
    assert race(1, lambda: services.conversations._lease(carer_id)) == [True]


def test_an_outbound_message_is_claimed_once(services):
    carer_id, conv_id = _carer(services)
    from bot.models import Carer

    with services.db.session() as s:
        carer = s.get(Carer, carer_id)
        ids = [outbox.enqueue(s, services.clock.now(), carer=carer, body=f"r{i}", kind="reply").id for i in range(5)]
    def claim(message_id):
        with services.db.session() as s:
            return services.outbox._claim(s, message_id) is not None

    for message_id in ids:
        assert sorted(race(8, lambda message_id=message_id: claim(message_id))) == [False] * 7 + [True]
