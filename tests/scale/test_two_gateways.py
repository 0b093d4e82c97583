"""Two gateways (gunicorn) and two `bot.cli worker` processes against the real PostgreSQL: every reply is
sent exactly once and in order per carer.

Rasa here is bench/fakerasa.py, a process that echoes each message with a per-sender sequence number
and counts overlapping requests for one sender. The real Rasa server (2 x ~1 GB, ~20 s to load, tens of
ms per turn on 2 cores) would make this test minutes long and its replies cannot be predicted message by
message; what is tested is CarerText's claims (carer leases, outbox claims), which do not depend on
what Rasa says. Redis is not used: it serves Rasa's lock store, which this fake does not need.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from bench.harness import (
    Procs, Scratch, Signer, StandinArrivals, free_port, gateway_env, phone_number, start_fake_rasa, start_gateway,
)

pytestmark = [pytest.mark.scale, pytest.mark.postgres]

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
CARERS = int(os.environ.get("SCALE_CARERS", "24"))
MESSAGES = int(os.environ.get("SCALE_MESSAGES", "8"))  # per carer


@pytest.fixture
def cluster(tmp_path):
    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL not set")
    db = Scratch(POSTGRES_URL, prefix="scale_")
    procs = Procs(tmp_path)
    standin = StandinArrivals()
    try:
        rasa = start_fake_rasa(procs, "fakerasa", delay_ms=5)
        ports = [free_port(), free_port()]
        public = f"http://127.0.0.1:{ports[0]}"  # both behind one public address, as behind a proxy
        common = dict(rasa_url=rasa, standin_url=standin.url, public_base_url=public, worker_threads=3,
                      lease_seconds=30)
        gateways = [start_gateway(procs, f"gateway{i}", gateway_env(db.url, port, **common))
                    for i, port in enumerate(ports)]
        for i in range(2):
            procs.start(f"worker{i}", [os.sys.executable, "-m", "bot.cli", "worker"],
                        gateway_env(db.url, 1, **common))
        yield db, gateways, Signer(public), standin, rasa, procs
    finally:
        procs.stop_all()
        standin.stop()
        db.drop()


def test_every_reply_once_and_in_order_across_two_gateways_and_two_workers(cluster):
    db, gateways, signer, standin, rasa, procs = cluster
    phones = [phone_number(i, 60) for i in range(CARERS)]

    def carer(index: int) -> None:
        http = requests.Session()
        for n in range(MESSAGES):
            # Alternate gateways message by message; a carer's messages come one after another, as Twilio
            # delivers them, but never wait for the reply, so replies and new messages overlap.
            form, headers = signer.form(phones[index], f"c{index} m{n}")
            url = gateways[(index + n) % 2] + "/webhooks/twilio/messages"
            assert http.post(url, data=form, headers=headers, timeout=30).status_code == 200
            # Twilio retries a webhook it thinks failed: the same MessageSid to the other gateway.
            if n == 0:
                other = gateways[(index + n + 1) % 2] + "/webhooks/twilio/messages"
                assert http.post(other, data=form, headers=headers, timeout=30).status_code == 200

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(carer, range(CARERS)))
    for phone in phones:
        standin.wait(phone, MESSAGES, timeout=max(5.0, 45 - (time.monotonic() - started)))
    time.sleep(1.0)  # a doubled send would arrive a little later

    sent = defaultdict(list)
    for m in standin.handle.messages():
        sent[m["to"]].append(m["body"])
    for index, phone in enumerate(phones):
        expected = [f"c{index} m{n} #{n + 1}" for n in range(MESSAGES)]
        assert sent[phone] == expected, f"carer {index}: {sent[phone]}"

    stats = requests.get(rasa + "/stats", timeout=5).json()
    assert stats["overlaps"] == 0, "two workers sent one carer's messages to Rasa at once"
    assert stats["calls"] == CARERS * MESSAGES, "a message went to Rasa twice (or never)"

    from bot.db import Database
    from bot.models import Message

    database = Database(db.url)
    with database.session() as s:
        states = dict(s.execute(select(Message.direction + ":" + Message.state, func.count())
                                .group_by(Message.direction, Message.state)).all())
        sids = s.scalars(select(Message.twilio_sid).where(Message.direction == "out")).all()
    database.engine.dispose()
    assert states == {"in:done": CARERS * MESSAGES, "out:sent": CARERS * MESSAGES}, states
    assert len(set(sids)) == len(sids) == CARERS * MESSAGES
