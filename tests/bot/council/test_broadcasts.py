"""Broadcasts: the right carers, the cost up front, paced at the sender's rate, skips, cancel and stop, the report."""

from __future__ import annotations

import itertools
from itertools import pairwise
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select

from bot.council import broadcasts
from bot.messaging import outbox
from bot import services as services_mod
from bot.adapters.twilio_sender import Sent
from bot.models import Carer, Conversation, Message

NUMBERS = itertools.count(7700901000)


class FakeSender:
    """Twilio that takes every message at once and remembers when (by the injected clock)."""

    def __init__(self, clock):
        self.clock, self.sent, self.ids = clock, [], itertools.count(1)

    def send(self, outgoing, status_callback):
        self.sent.append((self.clock.now(), outgoing))
        return Sent(sid=f"SM{next(self.ids):032d}", status="queued", num_segments=None)

    def recent_to(self, to, since_iso):
        return []


@pytest.fixture
def fake(clock):
    return FakeSender(clock)


@pytest.fixture
def services(settings, clock, rasa, fake):
    built = services_mod.build(settings.with_(send_rate_per_second=4.0, broadcast_tick_seconds=1.0),
                               clock=clock, rasa=rasa, sender=fake)
    yield built
    built.db.engine.dispose()


def carer(services, *, channel="sms", language="en", status=None, completed_days_ago=None, postcode=None,
          tags=(), opted_out=False, erased=False, last_inbound_hours_ago=None, contact_window=None) -> int:
    now = services.clock.now()
    with services.db.session() as s:
        c = Carer(phone=None if erased else f"+44{next(NUMBERS)}", channel=channel, language=language,
                  opted_out=opted_out, created_at=now, erased_at=now if erased else None,
                  contact_window=contact_window,
                  last_inbound_at=None if last_inbound_hours_ago is None
                  else now - timedelta(hours=last_inbound_hours_ago))
        s.add(c)
        s.flush()
        if status:
            completed = now - timedelta(days=completed_days_ago) if completed_days_ago is not None else None
            s.add(Conversation(carer_id=c.id, assessment_status=status, started_at=now - timedelta(days=400),
                               completed_at=completed))
        if postcode:
            broadcasts.set_postcode(s, c.id, postcode)
        for tag in tags:
            broadcasts.add_tag(s, c.id, tag)
        return c.id


def audience(services, **filters) -> set[int]:
    with services.db.session() as s:
        query = broadcasts.audience_ids(services.settings, services.clock.now(), broadcasts.clean_audience(filters))
        return set(s.scalars(query))


def make(services, message="Carers' assessments reopen on Monday.", at=None, **filters) -> int:
    with services.db.session() as s:
        b = broadcasts.create(s, services.clock.now(), message=message, audience=filters)
        broadcasts.schedule(s, services.clock.now(), b.id, at)
        return b.id


def run(services, clock, step=0.05, rounds=400) -> None:
    """Scheduler ticks and outbox passes with the clock moving on, until the broadcasts have finished."""
    for _ in range(rounds):
        broadcasts.tick(services)
        services.outbox.send_due()
        with services.db.session() as s:
            busy = s.scalar(select(broadcasts.Broadcast.id).where(
                broadcasts.Broadcast.state.in_(("scheduled", "running"))).limit(1))
            pending = s.scalar(select(Message.id).where(Message.state == "pending").limit(1))
        if busy is None and pending is None:
            return
        clock.advance(seconds=step)
    raise AssertionError("broadcast did not finish")


def report(services, broadcast_id):
    with services.db.session() as s:
        return broadcasts.report(s, broadcast_id)


def test_audience_filters_pick_the_right_consenting_carers(services):
    new = carer(services)
    going = carer(services, status="in_progress", language="cy", postcode="LS6 2AB", tags=["young_carer"])
    done = carer(services, status="completed", completed_days_ago=30, channel="whatsapp", postcode="ls1 1aa")
    review = carer(services, status="completed", completed_days_ago=400, postcode="M1 1AE", tags=["young_carer"])
    carer(services, status="in_progress", opted_out=True, postcode="LS6 3CD")
    carer(services, status="in_progress", erased=True)

    assert audience(services) == {new, going, done, review}
    assert audience(services, status="not_started") == {new}
    assert audience(services, status="in_progress") == {going}
    assert audience(services, status="completed") == {done}
    assert audience(services, status="review_due") == {review}
    assert audience(services, language="cy") == {going}
    assert audience(services, channel="whatsapp") == {done}
    assert audience(services, postcode="ls") == {going, done}
    assert audience(services, postcode="LS6") == {going}
    assert audience(services, tag="Young_Carer") == {going, review}
    assert audience(services, tag="young_carer", postcode="M") == {review}
    with pytest.raises(broadcasts.BroadcastError):
        broadcasts.clean_audience({"status": "finished"})
    assert broadcasts.parse_audience("status=in_progress, channel=sms") == {"status": "in_progress", "channel": "sms"}


@pytest.mark.parametrize("message,each", [
    ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),
    ("\u2019" + "a" * 69, 1), ("\u2019" + "a" * 70, 2),  # one curly quote: UCS-2 at 70 (67 per part)
])
def test_preview_counts_carers_and_sms_segments_before_sending(services, message, each):
    for _ in range(3):
        carer(services)
    carer(services, channel="whatsapp", last_inbound_hours_ago=2)
    carer(services, channel="whatsapp", last_inbound_hours_ago=30)
    carer(services, opted_out=True)
    with services.db.session() as s:
        p = broadcasts.preview(s, services.settings, services.clock.now(), message, {})
    assert (p.carers, p.sms, p.whatsapp, p.whatsapp_template) == (5, 3, 2, 1)
    assert p.segments_each == each and p.sms_segments == 3 * each
    assert p.unicode == ("\u2019" in message)
    assert p.seconds_at_rate == 3 / 4.0


def test_preview_says_how_many_wait_for_their_own_hours(services, clock):
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc))  # a Thursday morning in London
    carer(services)
    for _ in range(2):
        carer(services, contact_window="evenings please")
    carer(services, contact_window="mornings")  # inside their hours now: goes at once
    carer(services, contact_window="weekends only")
    carer(services, contact_window="whenever the cat is out")  # "whenever": any time suits them
    carer(services, contact_window="evenings", opted_out=True)  # not in the audience at all
    with services.db.session() as s:
        p = broadcasts.preview(s, services.settings, clock.now(), "Drop-in on Friday", {})
    assert (p.carers, p.own_hours, p.waiting_for_hours) == (6, 4, 3)
    assert p.last_hours_open == datetime(2026, 11, 28, 8, 0, tzinfo=timezone.utc)  # weekends, after quiet hours
    clock.set(datetime(2026, 11, 28, 18, 0, tzinfo=timezone.utc))  # Saturday evening: all of them are in
    with services.db.session() as s:
        p = broadcasts.preview(s, services.settings, clock.now(), "Drop-in on Monday", {})
    assert (p.own_hours, p.waiting_for_hours) == (4, 1)  # only "mornings" waits
    assert p.last_hours_open == datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)


def test_pacing_n_messages_at_r_per_second_take_n_over_r_seconds_never_faster(services, clock, fake):
    n, rate = 12, services.settings.send_rate_per_second
    for _ in range(n):
        carer(services)
    make(services)
    run(services, clock, step=0.05)  # a whole number of steps per slot, so the outbox is never late
    times = [t for t, _ in fake.sent]
    assert len(times) == n
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    assert min(gaps) >= 1 / rate - 1e-6
    span = (times[-1] - times[0]).total_seconds()
    # N messages occupy N slots of 1/R: the last leaves (N-1)/R after the first, and no sooner.
    assert (n - 1) / rate - 1e-6 <= span <= (n - 1) / rate + 1e-6
    for t in times:
        assert sum(1 for u in times if t <= u < t + timedelta(seconds=1)) <= rate


def test_a_busy_sender_holds_its_queue_without_claiming_every_message(services, clock, fake):
    from bot.messaging.worker import Dispatcher

    for _ in range(6):
        carer(services)
    make(services)
    broadcasts.tick(services)  # 4 queued, 0.25 s apart
    clock.advance(seconds=3)  # the outbox was held up: every slot has passed
    claims, claim = [], services.outbox._claim
    services.outbox._claim = lambda session, message_id: claims.append(message_id) or claim(session, message_id)
    assert services.outbox.send_due() == 1  # the first goes, and the sender is busy for 0.25 s
    assert len(claims) == 1  # the other three are left alone, not claimed only to be put back
    # A worker with nothing else to do looks again just before the sender is free, not at its slow poll.
    assert 0.24 <= Dispatcher(services, poll_seconds=3.0)._idle_wait() < 0.25
    for _ in range(3):
        clock.advance(seconds=0.25)
        assert services.outbox.send_due() == 1  # then one a slot, never faster
    assert len(claims) == 4
    assert [t - fake.sent[0][0] for t, _ in fake.sent] == [timedelta(seconds=0.25 * n) for n in range(4)]


def test_two_broadcasts_at_once_share_the_senders_rate(services, clock, fake):
    for _ in range(6):
        carer(services)
    make(services)
    make(services, message="Carers' week events start on Monday.")
    run(services, clock, step=0.03)  # an outbox a little late each time: still never faster than R
    times = [t for t, _ in fake.sent]
    assert len(times) == 12
    assert min((b - a).total_seconds() for a, b in pairwise(times)) >= 1 / 4.0 - 1e-6


def test_each_tick_only_queues_what_falls_before_the_next(services, clock):
    for _ in range(50):
        carer(services)
    b = make(services)
    result = broadcasts.tick(services)
    # One second ahead at 4 a second: the other 46 wait in our table, not in the outbox before replies.
    assert result.started == 1 and result.queued == 4
    r = report(services, b)
    assert (r.recipients, r.queued, r.waiting) == (50, 4, 46)


def test_a_slice_costs_one_statement_a_recipient(services, clock):
    """Slots, counts and states are written once a tick: at 100,000 carers a recipient must cost one INSERT."""
    services.settings = services.settings.with_(send_rate_per_second=40.0)
    for _ in range(60):
        carer(services)
    b = make(services)
    broadcasts.tick(services)  # starts it and queues the first 40
    clock.advance(seconds=1)
    writes = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", count)
    try:
        result = broadcasts.tick(services)
    finally:
        event.remove(services.db.engine, "before_cursor_execute", count)
    assert result.queued == 20 and result.finished == 1
    # 20 messages; the recipients' states in one executemany; the pacer; the broadcast's state and totals.
    assert len(writes) <= result.queued + 5
    r = report(services, b)
    assert (r.recipients, r.queued, r.waiting, r.state) == (60, 60, 0, "done")


def test_skip_rules_opted_out_erased_and_whatsapp_outside_the_window(services, clock, fake, settings):
    services.settings = services.settings.with_(whatsapp_broadcast_content_sid="HX" + "b" * 32)
    services.outbox.settings = services.settings
    keep = carer(services)
    leaves = carer(services)
    erased = carer(services)
    late_stop = carer(services)
    open_wa = carer(services, channel="whatsapp", last_inbound_hours_ago=1)
    closed_wa = carer(services, channel="whatsapp", last_inbound_hours_ago=48)
    already_out = carer(services, opted_out=True)
    b = make(services)
    broadcasts.tick(services)  # the audience is fixed now
    with services.db.session() as s:
        s.get(Carer, leaves).opted_out = True
        s.get(Carer, erased).phone = None
    run(services, clock, step=0.05)
    r = report(services, b)
    assert r.recipients == 6 and already_out not in {c for c in [keep]}
    assert r.skipped_by_reason == {"opted_out": 1, "erased": 1}
    assert r.sent == 4 and r.segments == 2
    by_to = {o.to: o for _, o in fake.sent}
    with services.db.session() as s:
        phone = {c.id: c.phone for c in s.scalars(select(Carer))}
    assert by_to[f"whatsapp:{phone[closed_wa]}"].content_sid == "HX" + "b" * 32
    assert by_to[f"whatsapp:{phone[closed_wa]}"].content_variables == {"1": "Carers' assessments reopen on Monday."}
    assert by_to[f"whatsapp:{phone[open_wa]}"].content_sid is None
    assert phone[keep] in by_to and phone[late_stop] in by_to and phone[already_out] not in by_to


def test_a_carer_who_says_stop_after_queueing_is_skipped_by_the_outbox(services, clock):
    carer(services)
    second = carer(services)
    b = make(services)
    broadcasts.tick(services)
    with services.db.session() as s:
        s.get(Carer, second).opted_out = True
    run(services, clock)
    r = report(services, b)
    assert r.sent == 1 and r.skipped_by_reason == {"opted_out": 1}


def test_quiet_hours_hold_the_rest_until_morning(services, clock, fake):
    for _ in range(6):
        carer(services)
    clock.set(datetime(2026, 11, 26, 20, 59, 59, 500000, tzinfo=timezone.utc))  # 20:59:59.5 in London (GMT)
    b = make(services)
    broadcasts.tick(services)
    services.outbox.send_due()
    clock.advance(seconds=0.25)
    services.outbox.send_due()
    assert len(fake.sent) == 2  # 20:59:59.5 and 20:59:59.75; 21:00 is quiet
    clock.advance(minutes=30)
    broadcasts.tick(services)
    services.outbox.send_due()
    assert len(fake.sent) == 2 and report(services, b).state == "running"
    clock.set(datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc))
    run(services, clock)
    assert len(fake.sent) == 6
    assert all(t.hour >= 8 for t, _ in fake.sent[2:])


def test_quiet_hours_past_send_until_skip_the_rest(services, clock, fake):
    for _ in range(6):
        carer(services)
    clock.set(datetime(2026, 11, 26, 20, 59, 59, 500000, tzinfo=timezone.utc))
    with services.db.session() as s:
        b = broadcasts.create(s, clock.now(), message="Event tonight at 10pm", audience={},
                              send_until=datetime(2026, 11, 26, 22, 0, tzinfo=timezone.utc)).id
        broadcasts.schedule(s, clock.now(), b)
    broadcasts.tick(services)
    clock.advance(minutes=1)
    broadcasts.tick(services)
    r = report(services, b)
    assert r.state == "done" and r.skipped_by_reason == {"quiet_hours": 4} and r.queued == 2


def test_a_carer_who_asked_for_evenings_gets_the_notice_in_their_evening(services, clock, fake):
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc))  # 10:00 in London
    anytime = [carer(services) for _ in range(4)]
    evenings = carer(services, contact_window="evenings please")
    muddled = carer(services, contact_window="whenever the cat is out")  # not understood: quiet hours only
    b = make(services)
    for _ in range(40):  # everyone else's: at once, at the set pace
        broadcasts.tick(services)
        services.outbox.send_due()
        clock.advance(seconds=0.05)
    with services.db.session() as s:
        phone = {c.id: c.phone for c in s.scalars(select(Carer))}
    sent_to = {o.to: t for t, o in fake.sent}
    assert set(sent_to) == {phone[c] for c in anytime + [muddled]}
    assert max(sent_to.values()) - min(sent_to.values()) <= timedelta(seconds=1.5)  # 5 at 4/s: no gap left
    r = report(services, b)
    assert (r.queued, r.sent, r.held_for_hours) == (6, 5, 1)  # theirs waits in the outbox, and the report says so
    clock.set(datetime(2026, 11, 26, 16, 59, tzinfo=timezone.utc))
    services.outbox.send_due()
    assert phone[evenings] not in {o.to for _, o in fake.sent}
    clock.set(datetime(2026, 11, 26, 17, 0, tzinfo=timezone.utc))
    run(services, clock)
    last = datetime(2026, 11, 26, 17, 0, tzinfo=timezone.utc)
    assert [(t, o.to) for t, o in fake.sent][-1] == (last, phone[evenings])
    r = report(services, b)
    assert (r.sent, r.held_for_hours) == (6, 0)


def test_a_notice_stale_before_a_carers_hours_open_is_skipped_for_them(services, clock, fake):
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc))
    carer(services)
    carer(services, contact_window="weekends only")  # a Thursday: Saturday is after the notice's end
    with services.db.session() as s:
        b = broadcasts.create(s, clock.now(), message="Drop-in today until 4pm", audience={},
                              send_until=datetime(2026, 11, 26, 16, 0, tzinfo=timezone.utc)).id
        broadcasts.schedule(s, clock.now(), b)
    run(services, clock)
    r = report(services, b)
    assert (r.sent, r.skipped_by_reason) == (1, {"contact_window": 1})


def test_a_notice_the_outbox_reaches_after_a_carers_hours_closed_waits_for_them_to_open(services, clock, fake):
    clock.set(datetime(2026, 11, 26, 11, 59, 59, tzinfo=timezone.utc))
    mornings = carer(services, contact_window="mornings")
    make(services)
    broadcasts.tick(services)  # queued at 11:59:59, inside their morning
    clock.set(datetime(2026, 11, 26, 12, 30, tzinfo=timezone.utc))  # the outbox was busy until after noon
    services.outbox.send_due()
    assert fake.sent == []
    clock.set(datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc))
    services.outbox.send_due()
    with services.db.session() as s:
        assert [o.to for _, o in fake.sent] == [s.get(Carer, mornings).phone]


def test_cancel_until_it_starts_then_stop_while_running(services, clock, fake):
    for _ in range(20):
        carer(services)
    later = make(services, at=clock.now() + timedelta(hours=2))
    with services.db.session() as s:
        broadcasts.cancel(s, clock.now(), later)
    clock.advance(hours=3)
    broadcasts.tick(services)
    assert report(services, later).state == "cancelled" and report(services, later).recipients == 0

    running = make(services)
    broadcasts.tick(services)
    with services.db.session() as s, pytest.raises(broadcasts.BroadcastError):
        broadcasts.cancel(s, clock.now(), running)
    services.outbox.send_due()  # the first slot is due now; the rest of this second waits in the outbox
    with services.db.session() as s:
        assert broadcasts.stop(s, clock.now(), running) == 3
    for _ in range(5):
        clock.advance(seconds=1)
        broadcasts.tick(services)
        services.outbox.send_due()
    r = report(services, running)
    assert r.state == "stopped" and r.sent == 1 and len(fake.sent) == 1
    assert r.skipped_by_reason == {"broadcast_stopped": 3} and r.waiting == 16
    with services.db.session() as s, pytest.raises(broadcasts.BroadcastError):
        broadcasts.stop(s, clock.now(), running)


def test_report_totals_after_duplicate_and_out_of_order_callbacks(services, clock):
    ids = [carer(services) for _ in range(5)]
    b = make(services)
    run(services, clock)
    with services.db.session() as s:
        sids = [m.twilio_sid for m in s.scalars(select(Message).where(Message.broadcast_id == b).order_by(Message.id))]
    now = clock.now()
    callbacks = [
        (sids[0], "delivered", None), (sids[0], "sent", None), (sids[0], "delivered", None),  # late "sent", repeat
        (sids[1], "undelivered", 30003), (sids[1], "sent", None), (sids[1], "undelivered", 30003),
        (sids[2], "failed", 30005), (sids[2], "queued", None),
        (sids[3], "sent", None), (sids[3], "sent", None),
    ]
    with services.db.session() as s:
        for sid, status, code in callbacks:
            outbox.record_status(s, now, sid, status, code)
    r = report(services, b)
    assert (r.recipients, r.queued, r.sent, r.delivered, r.failed) == (5, 5, 5, 1, 2)
    assert r.failed_by_code == {30003: 1, 30005: 1}
    assert r.callbacks == len(callbacks) and r.skipped == 0 and r.pending == 0
    assert r.by_channel["sms"] == {"queued": 5, "delivered": 1, "failed": 2}
    assert len(ids) == 5


def test_a_callback_before_the_send_result_is_counted_once_stored(services, clock, fake):
    carer(services)
    b = make(services)
    broadcasts.tick(services)
    with services.db.session() as s:  # Twilio's callback for the sid it is about to return beats the response
        outbox.record_status(s, clock.now(), f"SM{1:032d}", "delivered", None)
    services.outbox.send_due()
    r = report(services, b)
    assert r.delivered == 1 and r.sent == 1


def test_the_command_line_preview_names_those_with_their_own_hours(services, capsys):
    from bot import cli

    carer(services)
    carer(services, contact_window="weekends only")
    cli.broadcast(services.settings, "Drop-in on Friday", "all", None, send=False)
    out = capsys.readouterr().out
    assert out.startswith("reaches 2 carers: 2 by SMS (2 segments, 1 each)")
    assert re.search(r"^1 gave their own hours, 0 outside them now: theirs wait for the hours to open$|"
                     r"^1 gave their own hours, 1 outside them now: theirs wait for the hours to open, "
                     r"the last at Sat \d\d [A-Z][a-z]{2} \d\d:\d\d$", out, re.M)
    assert "not sent" in out
