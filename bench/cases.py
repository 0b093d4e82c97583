"""The benchmarks of issue 8. Each takes the shared Context and returns rows for the printed table."""

from __future__ import annotations

import http.client
import importlib.util
import os
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests
from sqlalchemy import create_engine
from sqlalchemy import text as sql

from bench.harness import (
    PYTHON, Procs, RasaTimer, Scratch, Signer, StandinArrivals, free_port, gateway_env, percentile, phone_number,
    rss_mb,
    start_fake_rasa, start_gateway, start_standin_process,
)

# The conversation every latency benchmark holds: a greeting, consent, a name, then commands that always
# get an answer and never hand over to a person (so a long conversation keeps going).
OPENING = ["hi", "yes", "Sam"]
CYCLE = ["help", "repeat", "summary"]


def script(turns: int) -> list[str]:
    return [OPENING[i] if i < len(OPENING) else CYCLE[(i - len(OPENING)) % len(CYCLE)] for i in range(turns)]


@dataclass
class Sizes:
    ack_rates: list[int] = field(default_factory=lambda: [50, 100, 200])
    ack_seconds: float = 8.0
    reply_conversations: int = 20  # x 5 turns each
    long_turns: list[int] = field(default_factory=lambda: [10, 100, 300])
    # Raw Rasa's own session is run this far only: past it each raw turn costs more than the whole CarerText
    # turn (0.5-0.7 s at turn 300 here), and the contrast is already plain at turn 100.
    long_raw_turns: int = 100
    broadcast_audience: int = 100000  # consenting carers a broadcast goes to
    # SEND_RATE_PER_SECOND of the paced measurements: the first under the injected clock for the whole
    # audience and in real time for broadcast_seconds, with carers texting in; the others for a third of that
    # (5 s at least).
    broadcast_rates: list[float] = field(default_factory=lambda: [50.0, 10.0])
    broadcast_seconds: float = 15.0  # the no-limit sample is a third as long (5 s at least)
    broadcast_probes: int = 10  # carers texting in, with and without a broadcast sending
    broadcast_n: int = 600  # recipients of each top-rate measurement (2 and 8 worker threads)
    reminders_n: int = 100000

    @classmethod
    def quick(cls) -> "Sizes":
        return cls(ack_seconds=3.0, reply_conversations=4, long_turns=[10, 30, 60], broadcast_audience=5000,
                   broadcast_seconds=6.0, broadcast_probes=4, broadcast_n=500, reminders_n=2000)


Row = dict[str, str]


class Context:
    """What the benchmarks share, started on first use and stopped at the end."""

    def __init__(self, sizes: Sizes):
        self.sizes = sizes
        self.procs = Procs()
        self._scratch: Scratch | None = None
        self._rasa = None
        self._standin: StandinArrivals | None = None
        self.memory: dict[str, float] = {}
        self.notes: list[str] = []
        self.gateway_urls: dict[str, str] = {}  # gateways started against the real Rasa, by process name

    @property
    def db(self) -> Scratch:
        if self._scratch is None:
            self._scratch = Scratch()
        return self._scratch

    @property
    def rasa(self):
        """The real Rasa server and action server (tests/rasa_server.py), SQLite tracker store."""
        if self._rasa is None:
            import tempfile

            from tests.rasa_server import RasaServer

            self._rasa = RasaServer(Path(tempfile.mkdtemp(prefix="carertext-bench-rasa-"))).start()
        return self._rasa

    @property
    def standin(self) -> StandinArrivals:
        if self._standin is None:
            self._standin = StandinArrivals()
        return self._standin

    def sample_rasa_memory(self) -> None:
        if self._rasa is not None:
            self.memory["rasa server"] = max(self.memory.get("rasa server", 0), rss_mb(self._rasa.procs["rasa"].pid))
            self.memory["action server"] = max(self.memory.get("action server", 0),
                                               rss_mb(self._rasa.procs["actions"].pid))

    def close(self) -> None:
        """Stop everything started; a failing step (the database restarted, say) does not stop the rest."""
        steps = [self.procs.stop_all]
        steps += [self._rasa.stop] if self._rasa is not None else []
        steps += [self._standin.stop] if self._standin is not None else []
        steps += [self._scratch.drop] if self._scratch is not None else []
        for step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001
                self.notes.append(f"cleanup: {type(exc).__name__}: {str(exc)[:120]}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# -- webhook acknowledgement -----------------------------------------------------------------------

def ack(ctx: Context) -> list[Row]:
    """Open loop at a fixed rate: request i is due at start + i/rate; latency counts from when it was due,
    so a slow answer that delays later requests is charged to them too (no coordinated omission)."""
    standin = start_standin_process(ctx.procs, "ack-standin")
    fake = start_fake_rasa(ctx.procs, "ack-fakerasa")
    port = free_port()
    # A database of its own: the backlog this leaves must not sit in front of the next benchmark's messages.
    scratch = Scratch(prefix="bench_ack_")
    # BENCH_WEB_CONCURRENCY gunicorn processes (default 1; 2 uses both cores).
    url = start_gateway(ctx.procs, "ack-gateway", gateway_env(scratch.url, port, fake, standin,
                                                              web_concurrency=os.environ.get("BENCH_WEB_CONCURRENCY",
                                                                                             "1")))
    signer = Signer(url)
    local = threading.local()

    def post(due: float, form: dict, headers: dict, out: list):
        if not hasattr(local, "http"):
            local.http = requests.Session()
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        try:
            status = local.http.post(url + "/webhooks/twilio/messages", data=form, headers=headers,
                                     timeout=30).status_code
        except requests.RequestException:
            status = 0
        out.append((time.perf_counter() - due, status))

    rows = []
    for block, rate in enumerate(ctx.sizes.ack_rates, start=1):
        n = max(1, int(rate * ctx.sizes.ack_seconds))
        # 500 carers per rate; each carer's messages are spread out, as real carers' are.
        forms = [signer.form(phone_number(i % 500, block), f"bench message {i}") for i in range(n)]
        out: list = []
        with ThreadPoolExecutor(max_workers=64) as pool:
            start = time.perf_counter() + 0.2
            for i, (form, headers) in enumerate(forms):
                due = start + i / rate
                wait = due - 0.05 - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)  # submit just ahead of time: the pool never holds the whole run
                pool.submit(post, due, form, headers, out)
        took = max(0.001, time.perf_counter() - start)
        lat = [lt for lt, st in out if st == 200]
        errors = sum(1 for _, st in out if st != 200)
        rows.append({"benchmark": f"webhook ack @ {rate}/s", "n": str(n),
                     "p50": ms(percentile(lat, 50)), "p95": ms(percentile(lat, 95)), "p99": ms(percentile(lat, 99)),
                     "note": f"{errors} errors, {n / took:.0f} req/s achieved, {scratch.kind}, fake Rasa"})
        time.sleep(1.0)  # let the gateway's workers finish the replies before the next rate
    gw = ctx.procs.procs["ack-gateway"].pid
    ctx.memory["gateway (gunicorn master, after load)"] = rss_mb(gw)
    ctx.procs.stop("ack-gateway")
    scratch.drop()
    return rows


# -- reply latency against raw Rasa, and the long conversation -------------------------------------

class LiveGateway:
    """A gateway against the real Rasa server, and Twilio's stand-in in this process."""

    def __init__(self, ctx: Context, timed: bool = False):
        self.ctx = ctx
        self.rasa_url = ctx.rasa.url
        # timed: the gateway reaches Rasa through a pass-through that times its call for each message.
        self.timer = RasaTimer(self.rasa_url) if timed else None
        port = free_port()
        name = "rasa-gateway-timed" if timed else "rasa-gateway"
        if name not in ctx.procs.procs:
            gateway_rasa = self.timer.url if timed else self.rasa_url
            start_gateway(ctx.procs, name, gateway_env(ctx.db.url, port, gateway_rasa, ctx.standin.url))
            ctx.gateway_urls[name] = f"http://127.0.0.1:{port}"
        self.url = ctx.gateway_urls[name]
        self.last_sid = ""
        self.db = None  # read only to learn how many sends a turn made, when raw Rasa did not say
        self.signer = Signer(self.url)
        self.http = requests.Session()
        self.raw = requests.Session()
        # The webhook goes as Twilio sends it, bytes ready: the clock starts as they leave, not while a
        # client library builds them (about 1 ms here, which is not CarerText's).
        self.webhook = http.client.HTTPConnection(urlsplit(self.url).hostname, urlsplit(self.url).port, timeout=30)

    def raw_turn(self, sender: str, text: str) -> tuple[float, int]:
        """One message straight to Rasa's REST channel: (seconds, messages to send)."""
        started = time.perf_counter()
        answer = self.raw.post(self.rasa_url + "/webhooks/rest/webhook", timeout=60,
                               json={"sender": sender, "message": text,
                                     "metadata": {"channel": "sms", "language": "en"}}).json()
        took = time.perf_counter() - started
        return took, sum(1 for item in answer if item.get("text") or (item.get("custom") or {}).get("say"))

    def sends_recorded(self, message_sid: str, timeout: float = 10.0) -> int:
        """How many replies the gateway recorded for a carer's message, once its turn is written."""
        if self.db is None:
            self.db = create_engine(self.ctx.db.url)
        deadline = time.monotonic() + timeout
        while True:
            with self.db.connect() as conn:
                asked = conn.execute(sql("SELECT id, state FROM messages WHERE twilio_sid = :sid"),
                                     {"sid": message_sid}).first()
                if asked is not None and asked.state == "done" or time.monotonic() > deadline:
                    return conn.execute(sql("SELECT count(*) FROM messages WHERE in_reply_to_id = :id AND "
                                             "direction = 'out' AND state <> 'skipped'"),
                                        {"id": asked.id if asked else -1}).scalar()
            time.sleep(0.005)

    def close(self) -> None:
        """Let go of the connections this side opened (the gateway process itself is stopped with the rest)."""
        self.webhook.close()
        self.http.close()
        self.raw.close()
        if self.db is not None:
            self.db.dispose()

    def carertext_turn(self, phone: str, text: str, expect: int | None) -> float:
        """One signed webhook in; seconds until its first reply arrives at the stand-in (waits for all)."""
        before = len(self.ctx.standin.arrivals.get(phone, []))
        form, headers = self.signer.form(phone, text)
        self.last_sid = form["MessageSid"]
        body = urlencode(form).encode()
        headers |= {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body))}
        self.webhook.close()
        self.webhook.connect()  # a fresh connection each turn: the gateway may have closed an idle one
        self.webhook.putrequest("POST", "/webhooks/twilio/messages", skip_accept_encoding=True)
        for name, value in headers.items():
            self.webhook.putheader(name, value)
        started = time.perf_counter()
        self.webhook.endheaders(body)
        answer = self.webhook.getresponse()
        answer.read()
        assert answer.status == 200
        arrivals = self.ctx.standin.wait(phone, before + 1, 60)
        first = arrivals[before] - started
        if expect is None:
            expect = self.sends_recorded(self.last_sid)
        try:
            self.ctx.standin.wait(phone, before + max(1, expect), 10)
        except TimeoutError:
            self.ctx.notes.append(f"reply: fewer sends than Rasa's answer for {text!r}")
        time.sleep(0.02)  # nothing of this turn may be counted as the next turn's first reply
        return first


def reply(ctx: Context) -> list[Row]:
    live = LiveGateway(ctx, timed=True)
    raw_lat, ct_lat, paired, own, gateway_rasa, first_contact, later = [], [], [], [], [], [], []
    turns = script(5)
    for c in range(ctx.sizes.reply_conversations):
        sender, phone = uuid.uuid4().hex, phone_number(c, 90)
        for n, text in enumerate(turns):
            raw_s, expect = live.raw_turn(sender, text)
            ct_s = live.carertext_turn(phone, text, expect)
            rasa_s = live.timer.rasa_seconds(live.last_sid)
            raw_lat.append(raw_s)
            ct_lat.append(ct_s)
            paired.append(ct_s - raw_s)
            gateway_rasa.append(rasa_s)
            own.append(ct_s - rasa_s)
            # A number never seen: the carer, their conversation and flood bucket are made too.
            (first_contact if n == 0 else later).append(ct_s - rasa_s)
    live.timer.stop()
    live.close()
    ctx.sample_rasa_memory()
    added = percentile(ct_lat, 95) - percentile(raw_lat, 95)
    own_p95 = percentile(own, 95)
    n = str(len(ct_lat))
    return [
        {"benchmark": "raw Rasa REST webhook", "n": n, "p50": ms(percentile(raw_lat, 50)),
         "p95": ms(percentile(raw_lat, 95)), "p99": ms(percentile(raw_lat, 99)),
         "note": "same messages, same run, a conversation of its own"},
        {"benchmark": "CarerText webhook -> first send at stand-in", "n": n, "p50": ms(percentile(ct_lat, 50)),
         "p95": ms(percentile(ct_lat, 95)), "p99": ms(percentile(ct_lat, 99)),
         "note": f"p95 minus raw p95: {added * 1000:.1f} ms; paired median {statistics.median(paired) * 1000:.1f} ms "
                 f"(two conversations: Rasa's own spread is in these)"},
        {"benchmark": "CarerText's own time (end to end minus its Rasa call)", "n": n, "p50": ms(percentile(own, 50)),
         "p95": ms(own_p95), "p99": ms(percentile(own, 99)),
         "note": f"same message, same conversation; its Rasa calls p50 {ms(percentile(gateway_rasa, 50))}, "
                 f"p95 {ms(percentile(gateway_rasa, 95))}; target <= 15 ms at p95: "
                 f"{'met' if own_p95 <= 0.015 else 'NOT met'}"},
        {"benchmark": "... of which a carer's later turns", "n": str(len(later)), "p50": ms(percentile(later, 50)),
         "p95": ms(percentile(later, 95)), "p99": ms(percentile(later, 99)),
         "note": "every turn of an assessment but its first message"},
        {"benchmark": "... of which first contact", "n": str(len(first_contact)),
         "p50": ms(percentile(first_contact, 50)), "p95": ms(percentile(first_contact, 95)),
         "p99": ms(percentile(first_contact, 99)),
         "note": f"a number's first message (1 in {len(turns)} here; 1 in hundreds in an assessment)"},
    ]


def long_conversation(ctx: Context) -> list[Row]:
    live = LiveGateway(ctx)
    checkpoints = sorted(ctx.sizes.long_turns)
    texts = script(checkpoints[-1])
    sender, phone = uuid.uuid4().hex, phone_number(1, 91)
    raw_lat, ct_lat = [], []
    for n, text in enumerate(texts):
        if n < ctx.sizes.long_raw_turns:
            raw_s, expect = live.raw_turn(sender, text)
            raw_lat.append(raw_s)
        else:
            expect = None  # the turn's own record says how many sends to wait for
        ct_lat.append(live.carertext_turn(phone, text, expect))
    live.close()
    ctx.sample_rasa_memory()
    if os.environ.get("BENCH_VERBOSE"):
        ctx.notes.append("long, CarerText ms per turn: " + " ".join(f"{x * 1000:.0f}" for x in ct_lat))
        ctx.notes.append("long, raw Rasa ms per turn: " + " ".join(f"{x * 1000:.0f}" for x in raw_lat))

    def at(series, k):  # median of the 5 turns ending at turn k: one turn alone is too noisy
        return statistics.median(series[max(0, k - 5):k])

    rows = []
    base_ct, base_raw = at(ct_lat, checkpoints[0]), at(raw_lat, checkpoints[0])
    for k in checkpoints:
        ct = at(ct_lat, k)
        raw = at(raw_lat, k) if k <= len(raw_lat) else None
        rows.append({"benchmark": f"long conversation, turn {k}", "n": "5",
                     "p50": f"{ms(ct)} / {ms(raw) if raw else 'not run'}", "p95": "", "p99": "",
                     "note": f"CarerText / raw Rasa (median of turns {max(1, k - 4)}-{k}); vs turn {checkpoints[0]}: "
                             f"{ct / base_ct:.2f}x / " + (f"{raw / base_raw:.2f}x" if raw else
                                                          f"raw Rasa run to turn {len(raw_lat)} only")})
    last = ct_lat and at(ct_lat, checkpoints[-1]) / base_ct
    rows[-1]["note"] += f"; target CarerText <= 1.3x: {'met' if last <= 1.3 else 'NOT met'}"
    return rows


# -- broadcast pacing --------------------------------------------------------------------------------

def broadcast(ctx: Context) -> list[Row]:
    """A broadcast to broadcast_audience carers through bot/council/broadcasts/: bench/broadcast_pacing.py."""
    from bench.broadcast_pacing import broadcast as run

    return run(ctx)


# -- reminders ---------------------------------------------------------------------------------------

def reminders(ctx: Context) -> list[Row]:
    """N reminders due at once; one scheduler tick hands them to the outbox (nothing sent: Twilio's pace
    is the outbox's, measured above). Lateness = handed_at - due_at, for every reminder."""
    if importlib.util.find_spec("bot.timing.reminders") is None:
        return [{"benchmark": "pending reminders", "n": "", "p50": "", "p95": "", "p99": "",
                 "note": "TODO: bot/timing/reminders.py does not exist yet"}]
    from sqlalchemy import insert, select

    from bot import services as services_mod
    from bot.config import Settings
    from bot.models import Carer, Conversation
    from bot.timing.reminders import Reminder, tick

    class NoSender:
        def send(self, outgoing, status_callback):
            raise AssertionError("nothing is sent in this measurement")

        def recent_to(self, to, since_iso):
            return []

    n = ctx.sizes.reminders_n
    scratch = Scratch(prefix="bench_rem_")
    try:
        settings = Settings(database_url=scratch.url, quiet_hours="")
        services = services_mod.build(settings, sender=NoSender(), rasa=object())
        earlier = datetime.now(timezone.utc) - timedelta(days=1)
        with services.db.session() as s:
            s.execute(insert(Carer), [{"public_id": uuid.uuid4().hex, "phone": phone_number(i, 70), "channel": "sms",
                                       "language": "en", "opted_out": False, "created_at": earlier,
                                       "last_inbound_at": earlier} for i in range(n)])
            ids = s.scalars(select(Carer.id)).all()
            s.execute(insert(Conversation), [{"carer_id": i, "rasa_sender": uuid.uuid4().hex, "state": "bot",
                                              "assessment_status": "in_progress", "current_section": "about_you",
                                              "progress_done": 0, "progress_total": 0, "turns_in_session": 0,
                                              "sessions_started": 0, "started_at": earlier} for i in ids])
            convs = s.execute(select(Conversation.id, Conversation.carer_id)).all()
        due = datetime.now(timezone.utc)
        with services.db.session() as s:
            s.execute(insert(Reminder), [{"carer_id": c, "conversation_id": v, "kind": "nudge1", "anchor_at": earlier,
                                          "planned_at": due, "due_at": due, "state": "pending", "created_at": earlier}
                                         for v, c in convs])
        started = time.perf_counter()
        result = tick(services, send=False)
        took = time.perf_counter() - started
        with services.db.session() as s:
            handed = [h for h in s.scalars(select(Reminder.handed_at)).all() if h is not None]
        late = [((h if h.tzinfo else h.replace(tzinfo=timezone.utc)) - due).total_seconds() for h in handed]
        services.db.engine.dispose()
        tick_s = Settings.from_env().reminder_tick_seconds
        return [{"benchmark": "pending reminders due at once, one tick", "n": str(n),
                 "p50": f"{percentile(late, 50):.2f} s", "p95": f"{percentile(late, 95):.2f} s",
                 "p99": f"{percentile(late, 99):.2f} s",
                 "note": f"handed {result.handed}, max {max(late, default=float('nan')):.2f} s late, {n / took:.0f}/s, "
                         f"{scratch.kind}; plus up to one tick interval ({tick_s:.0f} s) before the tick starts"}]
    finally:
        scratch.drop()


# -- memory ------------------------------------------------------------------------------------------

def memory(ctx: Context) -> list[Row]:
    """Resident memory of each process (MB, with children): what the other benchmarks saw, plus an idle
    scheduler; what they did not start is started here."""
    if not any(k.startswith("gateway") for k in ctx.memory):
        fake = start_fake_rasa(ctx.procs, "mem-fakerasa")
        standin = start_standin_process(ctx.procs, "mem-standin")
        port = free_port()
        start_gateway(ctx.procs, "mem-gateway", gateway_env(ctx.db.url, port, fake, standin))
        ctx.memory["gateway (gunicorn, 1 worker, idle)"] = rss_mb(ctx.procs.procs["mem-gateway"].pid)
    ctx.rasa  # noqa: B018  (started if no benchmark before needed it)
    ctx.sample_rasa_memory()
    env = gateway_env(ctx.db.url, free_port(), ctx.rasa.url, "http://127.0.0.1:9")
    proc = ctx.procs.start("scheduler", [PYTHON, "-m", "bot.cli", "scheduler"], env)
    time.sleep(6)
    ctx.memory["scheduler (idle, one tick done)"] = rss_mb(proc.pid)
    ctx.procs.stop("scheduler")
    fake = start_fake_rasa(ctx.procs, "mem-fakerasa2")
    proc = ctx.procs.start("worker", [PYTHON, "-m", "bot.cli", "worker"], gateway_env(ctx.db.url, 1, fake, "http://127.0.0.1:9"))
    time.sleep(4)
    ctx.memory["worker (python -m bot.cli worker, idle)"] = rss_mb(proc.pid)
    ctx.procs.stop("worker")
    return [{"benchmark": f"memory: {name}", "n": "", "p50": f"{mb:.0f} MB", "p95": "", "p99": "", "note": "RSS"}
            for name, mb in ctx.memory.items()]


CASES = {"ack": ack, "reply": reply, "long": long_conversation, "broadcast": broadcast, "reminders": reminders,
         "memory": memory}
