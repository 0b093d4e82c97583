"""Broadcasts through bot/council/broadcasts/: a large audience, paced at a set rate, and the top rate with no limit.

One database of consenting SMS carers (100,000 in the full run), four measurements:
1. the console's preview and the scheduler's start of a broadcast to all of them;
2. the hand-over of every recipient at the set rate under the injected clock: each message's not-before moment;
3. a real gateway and scheduler process sending at the set rate, then with no limit, for a sample of real time
   each, while carers text in (their reply latency against the same gateway with nothing being broadcast);
4. the top rate of the outbox's worker threads (2 and 8) through the broadcast path, N recipients.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from itertools import pairwise
from datetime import datetime, timedelta, timezone

import requests
from sqlalchemy import delete, func, insert, literal, select, update

from bench.cases import Context, Row, ms
from bench.harness import (
    ACCOUNT_SID, AUTH_TOKEN, PYTHON, SMS_FROM, Scratch, Signer, free_port, gateway_env, percentile, phone_number,
    rss_mb, start_fake_rasa, start_gateway, start_standin_process,
)

# One GSM-7 segment, as most council notices are.
NOTICE = "Carers' cafe this Thursday 2pm at the Town Hall: come and meet other carers."
AUDIENCE_BLOCK, PROBE_BLOCK = 60, 59  # phone_number blocks: the audience, and the carers who text in
NO_LIMIT = 1e6  # SEND_RATE_PER_SECOND high enough that only the outbox decides the rate


def broadcast(ctx: Context) -> list[Row]:
    """All four measurements on one scratch database; every process started here is stopped here."""
    scratch = Scratch(prefix="bench_bc_")
    try:
        seed_carers(scratch.url, ctx.sizes.broadcast_audience)
        rows = hand_over(ctx, scratch)
        standin = start_standin_process(ctx.procs, "broadcast-standin")
        rows += live(ctx, scratch, standin)
        for threads in (2, 8):
            rows.append(top_rate(ctx, scratch, standin, threads))
        return rows
    finally:
        for name in ("broadcast-gateway", "broadcast-scheduler", "broadcast-fakerasa", "broadcast-standin"):
            ctx.procs.stop(name)
        scratch.drop()


def build_services(url: str, **settings):
    """The bench's own services on the scratch database, Twilio being the stand-in (when one is given)."""
    from bot import services as services_mod
    from bot.config import Settings

    clock = settings.pop("clock", None)
    base = Settings(database_url=url, quiet_hours="", twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                    twilio_sms_from=SMS_FROM)
    return services_mod.build(base.with_(**settings), clock=clock, rasa=object())


def seed_carers(url: str, n: int) -> None:
    """n consenting SMS carers, written 10,000 at a time."""
    from bot.models import Carer

    services = build_services(url)
    now = datetime.now(timezone.utc)
    for first in range(0, n, 10000):
        with services.db.session() as s:
            s.execute(insert(Carer), [{"public_id": uuid.uuid4().hex, "phone": phone_number(i, AUDIENCE_BLOCK),
                                       "channel": "sms", "language": "en", "opted_out": False, "created_at": now}
                                      for i in range(first, min(n, first + 10000))])
    services.db.engine.dispose()


def new_broadcast(services, audience: dict) -> int:
    """Write and schedule a broadcast now, as the console does; the scheduler starts it."""
    from bot.council import broadcasts

    with services.db.session() as s:
        b = broadcasts.create(s, services.clock.now(), message=NOTICE, audience=audience)
        broadcasts.schedule(s, services.clock.now(), b.id)
        return b.id


def most_in_window(times: list, window) -> int:
    """The most sends in any one window (each window opening at a send)."""
    times, most, j = sorted(times), 0, 0
    for i, t in enumerate(times):
        while j < len(times) and times[j] < t + window:
            j += 1
        most = max(most, j - i)
    return most


# -- 1 and 2: preview, start, and the whole hand-over under the injected clock ------------------------

def hand_over(ctx: Context, scratch: Scratch) -> list[Row]:
    """Preview and start a broadcast to everyone, then tick with the clock moved by hand until all are queued."""
    from bot.council import broadcasts
    from bot.timing.clock import FakeClock
    from bot.models import Message

    n, rate = ctx.sizes.broadcast_audience, ctx.sizes.broadcast_rates[0]
    services = build_services(scratch.url, send_rate_per_second=rate,
                              clock=FakeClock(datetime.now(timezone.utc).replace(microsecond=0)))
    clock, tick_s = services.clock, services.settings.broadcast_tick_seconds
    try:
        started = time.perf_counter()
        with services.db.session() as s:
            preview = broadcasts.preview(s, services.settings, clock.now(), NOTICE, {})
        preview_s = time.perf_counter() - started
        broadcast_id = new_broadcast(services, {})
        rss_before = rss_mb(os.getpid())
        started = time.perf_counter()
        first = broadcasts.tick(services)  # starts it: the audience is fixed, the first slice queued
        start_s = time.perf_counter() - started
        rss_after = rss_mb(os.getpid())
        ticks = []
        for _ in range(int(n / (rate * tick_s)) + 10):
            clock.advance(seconds=tick_s)
            started = time.perf_counter()
            result = broadcasts.tick(services)
            ticks.append(time.perf_counter() - started)
            if result.finished:
                break
        with services.db.session() as s:
            planned = s.scalars(select(Message.next_attempt_at).where(Message.broadcast_id == broadcast_id)).all()
            # Nothing of this hand-over may be sent by the real-clock measurements that follow.
            s.execute(update(Message).where(Message.broadcast_id == broadcast_id, Message.state == "pending")
                      .values(state="skipped", error_note="bench_hand_over"))
            s.execute(delete(broadcasts.BroadcastPacer))
    finally:
        services.db.engine.dispose()
    first_at = min(planned)
    micros = sorted((t - first_at) // timedelta(microseconds=1) for t in planned)  # exact: no float
    span = micros[-1] / 1e6
    most = most_in_window(micros, 1_000_000)
    return [
        {"benchmark": f"broadcast preview, {n} carers (console)", "n": str(n), "p50": ms(preview_s), "p95": "",
         "p99": "", "note": f"{preview.carers} carers, {preview.sms_segments} SMS segments, "
                            f"{preview.seconds_at_rate:.0f} s at {rate:g}/s; {scratch.kind}"},
        {"benchmark": f"broadcast start, {n} recipients (first scheduler tick)", "n": str(n), "p50": ms(start_s),
         "p95": "", "p99": "",
         "note": f"audience fixed by one INSERT ... SELECT, first slice of {first.queued} queued; "
                 f"bench process RSS {rss_after - rss_before:+.1f} MB"},
        {"benchmark": f"broadcast hand-over @ {rate:g}/s, injected clock, all {n}", "n": str(len(planned)),
         "p50": ms(percentile(ticks, 50)), "p95": ms(percentile(ticks, 95)), "p99": ms(percentile(ticks, 99)),
         "note": f"per tick (real time); planned sends: most in any 1 s {most} (rate {rate:g}), mean "
                 f"{(len(planned) - 1) / span if span else float('nan'):.2f}/s, last {span:.2f} s after the first "
                 f"((N-1)/R = {(n - 1) / rate:.2f} s); {len(ticks) + 1} ticks, {sum(ticks) + start_s:.1f} s in all"},
    ]


# -- 3: a real gateway and scheduler, at the set rate and with no limit, carers texting in meanwhile ---

class Live:
    """The gateway (web app and its worker threads) and the scheduler process, at one send rate."""

    def __init__(self, ctx: Context, scratch: Scratch, standin: str, rasa: str, rate: float):
        self.ctx, self.standin = ctx, standin
        port = free_port()
        env = gateway_env(scratch.url, port, rasa, standin, send_rate_per_second=repr(rate))
        ctx.procs.start("broadcast-scheduler", [PYTHON, "-m", "bot.cli", "scheduler"], env)
        self.url = start_gateway(ctx.procs, "broadcast-gateway", env)
        self.signer = Signer(self.url)
        self.http = requests.Session()
        self.text_in(phone_number(9999, PROBE_BLOCK))  # a first request warms the pools: not measured

    def text_in(self, phone: str) -> tuple[float, float]:
        """A carer texts in: (seconds to the webhook's answer, seconds until the reply reaches Twilio)."""
        before = len(self.http.get(self.standin + "/_standin/messages", params={"to": phone}, timeout=10).json())
        form, headers = self.signer.form(phone, "hello")
        sent = time.time()
        assert self.http.post(self.url + "/webhooks/twilio/messages", data=form, headers=headers,
                              timeout=30).status_code == 200
        acked = time.time()
        found = self.http.get(self.standin + "/_standin/wait", params={"to": phone, "count": before + 1,
                                                                      "timeout": 60}, timeout=70)
        found.raise_for_status()
        return acked - sent, found.json()[before]["created_at"] - sent

    def stop(self) -> None:
        self.ctx.procs.stop("broadcast-scheduler")
        self.ctx.procs.stop("broadcast-gateway")


def sends_to_audience(standin: str, since: float, until: float) -> list[float]:
    """When each broadcast message reached the stand-in, within [since, until)."""
    prefix = phone_number(0, AUDIENCE_BLOCK)[:-6]
    return sorted(r["at"] for r in requests.get(standin + "/_standin/requests", timeout=60).json()
                  if r["method"] == "POST" and r["status"] == 201 and since <= r["at"] < until
                  and r["form"].get("To", [""])[0].startswith(prefix))


def reset_standin(standin: str) -> None:
    """Forget what the stand-in has seen; callbacks stay off (what is measured is the send path)."""
    requests.post(standin + "/_standin/reset", timeout=10).raise_for_status()
    requests.post(standin + "/_standin/faults", json={"callbacks": "off"}, timeout=10).raise_for_status()


def first_send(services, broadcast_id: int, timeout: float = 60.0) -> None:
    """Wait until the scheduler has started the broadcast and the first of it has been sent."""
    from bot.models import Message

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with services.db.session() as s:
            if s.scalar(select(Message.id).where(Message.broadcast_id == broadcast_id, Message.state == "sent")
                        .limit(1)) is not None:
                return
        time.sleep(0.05)
    raise TimeoutError(f"broadcast {broadcast_id} sent nothing in {timeout:.0f} s")


def message_writes(services) -> int | None:
    """Rows of the outbox updated so far (PostgreSQL's statistics): a claim, a put-back, a send each write one."""
    if not services.db.is_postgres:
        return None
    with services.db.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = 'messages'::regclass"
                                    ).scalar()


class Sample:
    """What one watched stretch of a broadcast showed: sends at the stand-in, replies, outbox writes per send."""

    def __init__(self, live: Live, services, seconds: float, phones: list[str]):
        from bot.council import broadcasts
        from bot.models import Message

        def sent() -> int:
            with services.db.session() as s:
                return s.scalar(select(func.count()).select_from(Message).where(
                    Message.broadcast_id == broadcast_id, Message.state == "sent"))

        broadcast_id = new_broadcast(services, {})
        first_send(services, broadcast_id)
        since, writes, sent_before, self.replies = time.time(), message_writes(services), sent(), []
        for k, phone in enumerate(phones):
            time.sleep(max(0.0, since + (k + 0.5) * seconds / len(phones) - time.time()))
            self.replies.append(live.text_in(phone))
        time.sleep(max(0.0, since + seconds - time.time()))
        until = time.time()
        with services.db.session() as s:
            if s.get(broadcasts.Broadcast, broadcast_id).state == "running":
                stopped = broadcasts.stop(s, services.clock.now(), broadcast_id)
            else:  # all handed over already (a small audience with no limit): what waits in the outbox goes
                stopped = s.execute(update(Message).where(Message.broadcast_id == broadcast_id,
                                                          Message.state == "pending")
                                    .values(state="skipped", error_note="broadcast_stopped")).rowcount
        self.seconds = until - since
        self.sends = sends_to_audience(live.standin, since, until)
        self.writes_per_send = None
        if writes is not None:
            time.sleep(1.5)  # backends report their statistics at most once a second
            sends = sent() - sent_before
            self.writes_per_send = (message_writes(services) - writes - stopped) / max(1, sends)

    def paced_row(self, rate: float, audience: int) -> Row:
        gaps = [b - a for a, b in pairwise(self.sends)]
        writes = "" if self.writes_per_send is None else f"; {self.writes_per_send:.1f} outbox row writes a send"
        return {"benchmark": f"broadcast @ {rate:g}/s, real clock, {self.seconds:.0f} s of {audience}",
                "n": str(len(self.sends)), "p50": ms(percentile(gaps, 50)), "p95": ms(percentile(gaps, 95)),
                "p99": ms(percentile(gaps, 99)),
                "note": f"gap between sends at the stand-in; mean {len(self.sends) / self.seconds:.1f}/s, most in any "
                        f"1 s {most_in_window(self.sends, 1.0)} (rate {rate:g}), shortest gap "
                        f"{ms(min(gaps, default=float('nan')))}{writes}"}


def reply_row(label: str, replies: list[tuple], baseline: list[tuple] | None) -> Row:
    acks, lat = [a for a, _ in replies], [r for _, r in replies]
    note = f"carer texts in -> reply at stand-in; webhook answered p50 {ms(percentile(acks, 50))}, max {ms(max(acks))}"
    if baseline:
        base = [r for _, r in baseline]
        note += (f"; vs nothing broadcasting: p50 {percentile(lat, 50) / percentile(base, 50):.1f}x, "
                 f"max {max(lat) / max(base):.1f}x")
    return {"benchmark": label, "n": str(len(lat)), "p50": ms(percentile(lat, 50)), "p95": ms(percentile(lat, 95)),
            "p99": ms(percentile(lat, 99)), "note": note}


def live(ctx: Context, scratch: Scratch, standin: str) -> list[Row]:
    """Replies with nothing sending; broadcasts at the set rates, then with no limit; replies during the first and
    the last. The gateway runs its 2 worker threads, the scheduler process its 1 s tick."""
    sizes = ctx.sizes
    seconds, k, audience = sizes.broadcast_seconds, sizes.broadcast_probes, sizes.broadcast_audience
    short = max(5.0, seconds / 3)
    phones = iter(phone_number(i, PROBE_BLOCK) for i in range(9999))
    rasa = start_fake_rasa(ctx.procs, "broadcast-fakerasa")
    services = build_services(scratch.url)
    rows = []
    try:
        for n, rate in enumerate(sizes.broadcast_rates):
            gateway = Live(ctx, scratch, standin, rasa, rate)
            if n == 0:
                baseline = [gateway.text_in(next(phones)) for _ in range(k)]
                rows.append(reply_row("reply, nothing broadcasting", baseline, None))
                watched = Sample(gateway, services, seconds, [next(phones) for _ in range(k)])
                rows += [watched.paced_row(rate, audience),
                         reply_row(f"reply during broadcast @ {rate:g}/s", watched.replies, baseline)]
            else:
                rows.append(Sample(gateway, services, short, []).paced_row(rate, audience))
            gateway.stop()
        gateway = Live(ctx, scratch, standin, rasa, NO_LIMIT)
        watched = Sample(gateway, services, short, [next(phones) for _ in range(k)])
        gateway.stop()
        rows += [{"benchmark": f"broadcast, no limit, real clock, {watched.seconds:.0f} s of {audience}",
                  "n": str(len(watched.sends)), "p50": "", "p95": "", "p99": "",
                  "note": f"{len(watched.sends) / watched.seconds:.0f} msg/s from the gateway's 2 worker threads "
                          "while carers text in"},
                 reply_row("reply during broadcast, no limit", watched.replies, baseline)]
    finally:
        services.db.engine.dispose()
        ctx.procs.stop("broadcast-fakerasa")
    return rows


# -- 4: the top rate of the outbox's worker threads through the broadcast path -------------------------

def top_rate(ctx: Context, scratch: Scratch, standin: str, threads: int) -> Row:
    """N recipients (a tag), no limit: the scheduler's tick in one thread, the web process's workers in others."""
    from bot.council import broadcasts
    from bot.models import Carer, Message
    from bot.messaging.worker import Dispatcher

    n = ctx.sizes.broadcast_n
    tag = f"bench_top_{threads}"
    services = build_services(scratch.url, twilio_api_base_url=standin, send_rate_per_second=NO_LIMIT)
    try:
        with services.db.session() as s:
            s.execute(insert(broadcasts.CarerTag).from_select(
                ["carer_id", "tag"], select(Carer.id, literal(tag)).order_by(Carer.id).limit(n)))
        reset_standin(standin)
        since = time.time()
        broadcast_id = new_broadcast(services, {"tag": tag})
        stop = threading.Event()

        def scheduler():
            while True:
                broadcasts.tick(services)
                if stop.wait(services.settings.broadcast_tick_seconds):
                    return

        workers = Dispatcher(services, threads=threads, poll_seconds=0.5).start()
        ticker = threading.Thread(target=scheduler, name="bench-broadcast-tick")
        ticker.start()
        started, sent = time.perf_counter(), 0
        deadline = started + 60 + n / 10
        while sent < n and time.perf_counter() < deadline:
            time.sleep(0.25)
            with services.db.session() as s:
                sent = s.scalar(select(func.count()).select_from(Message).where(
                    Message.broadcast_id == broadcast_id, Message.state == "sent"))
        took = time.perf_counter() - started
        stop.set()
        ticker.join()
        workers.stop()
        with services.db.session() as s:
            report = broadcasts.report(s, broadcast_id)
        sends = sends_to_audience(standin, since, time.time())
    finally:
        services.db.engine.dispose()
    span = sends[-1] - sends[0] if len(sends) > 1 else float("nan")
    not_sent = f", not sent: {report.pending} pending, {report.failed} failed" if report.sent < n else ""
    return {"benchmark": f"broadcast top rate, no limit, {threads} worker threads", "n": str(n), "p50": "", "p95": "",
            "p99": "", "note": f"{(len(sends) - 1) / span:.0f} msg/s ({report.sent} sent, {took:.1f} s from scheduling"
                               f"{not_sent}), {scratch.kind}, stand-in in its own process"}
