"""Faults a deployment meets: each carer still gets each reply exactly once, in order."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot import services as services_mod
from bot.timing.clock import SystemClock
from bot.config import ROOT
from bot.models import Message
from bot.messaging.worker import Dispatcher
from bot.launcher import free_port


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def bodies(twilio, to):
    return [m["body"] for m in twilio.messages(to=to)]


# -- the gateway killed mid-burst ----------------------------------------------------------------


class Gateway:
    """The gateway as a real process (tests/faults/gateway_proc.py), killed and started at will."""

    def __init__(self, settings):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, PUBLIC_BASE_URL=self.url, DATABASE_URL=settings.database_url,
                        TWILIO_ACCOUNT_SID=settings.twilio_account_sid, TWILIO_AUTH_TOKEN=settings.twilio_auth_token,
                        TWILIO_API_BASE_URL=settings.twilio_api_base_url, LEASE_SECONDS="1", LOG_LEVEL="WARNING",
                        PYTHONPATH=str(ROOT))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.faults.gateway_proc", str(self.port)],
                                     env=self.env, cwd=ROOT, stdout=subprocess.PIPE, start_new_session=True)
        assert self.proc.stdout.readline().strip() == b"ready"

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def post(self, number, body):
        url = self.url + "/webhooks/twilio/messages"
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": self.env["TWILIO_ACCOUNT_SID"],
                "From": number, "To": "+447700900000", "Body": body, "NumMedia": "0"}
        sig = RequestValidator(self.env["TWILIO_AUTH_TOKEN"]).compute_signature(url, form)
        return requests.post(url, data=form, headers={"X-Twilio-Signature": sig}, timeout=10)


def test_gateway_killed_mid_burst_then_restarted(settings, twilio):
    gateway = Gateway(settings)
    gateway.start()
    numbers = [f"+4477009009{n:02d}" for n in range(3)]
    try:
        for n in range(8):
            for number in numbers:
                assert gateway.post(number, f"m{n}").status_code == 200
        wait_until(lambda: len(twilio.messages()) >= 3, 30, "the first replies")
        gateway.kill()  # mid-burst: messages stored, some answered, some being sent
        killed_at = len(twilio.messages())
        gateway.start()
        for number in numbers:
            wait_until(lambda number=number: len(bodies(twilio, number)) >= 8, 60, "all replies after restart")
        time.sleep(0.5)  # let a doubled reply, if any, arrive before counting
        for number in numbers:
            assert bodies(twilio, number) == [f"got: m{n}" for n in range(8)]
        assert killed_at < 24, "the kill landed after the burst was answered"
    finally:
        if gateway.proc and gateway.proc.poll() is None:
            gateway.kill()


# -- Rasa down, then back ------------------------------------------------------------------------


def test_rasa_down_messages_wait_then_answered_in_order_with_one_late_apology(phone, services, twilio, rasa, clock):
    p = phone("+447700900950")
    rasa.down = True
    apology = services.catalogue.text("apology_delay")
    for n in range(3):
        p.send(f"m{n}")
    dispatcher = Dispatcher(services)
    for _ in range(5):  # well under APOLOGY_AFTER_SECONDS: no apology yet
        clock.advance(seconds=10)
        dispatcher.run_once()
    assert bodies(twilio, p.address) == []
    with services.db.session() as s:
        assert [m.state for m in s.scalars(select(Message).where(Message.direction == "in"))] == ["pending"] * 3
    for _ in range(10):  # a minute and more down: one apology, however many retries
        clock.advance(seconds=31)
        dispatcher.run_once()
    assert bodies(twilio, p.address) == [apology]
    rasa.down = False
    clock.advance(seconds=31)
    while dispatcher.run_once():
        pass
    assert bodies(twilio, p.address) == [apology, "got: m0", "got: m1", "got: m2"]
    assert [t for _, t, _ in rasa.seen] == ["m0", "m1", "m2"]


# -- the database restarted while messages flow ----------------------------------------------------


class OwnPostgres:
    """A PostgreSQL server of the test's own (initdb), so stopping it disturbs nobody else's databases."""

    def __init__(self, bindir: str, data: str, port: int):
        self.data, self.port = data, port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        # initdb and the server refuse to run as root: as root, they run as the postgres user.
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.pg_ctl = [*self.prefix, os.path.join(bindir, "pg_ctl"), "-D", data, "-w"]
        self.options = f"-p {port} -c listen_addresses=127.0.0.1 -k {data} -c fsync=off"

    def run(self, *args: str) -> None:
        subprocess.run([*self.pg_ctl, *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self.run("-o", self.options, "-l", os.path.join(self.data, "server.log"), "start")

    def stop(self, mode: str = "fast") -> None:
        self.run("-m", mode, "stop")


@pytest.fixture
def own_postgres():
    """A fresh server with every table, stopped and removed afterwards."""
    from tests.conftest import _create_tables

    bindir = ""
    if shutil.which("pg_config"):
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
    if not os.path.exists(os.path.join(bindir, "initdb")):
        pytest.skip("PostgreSQL's initdb is not installed here")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("as root, runuser is needed to run PostgreSQL as its own user")
    home = tempfile.mkdtemp(prefix="carertext-pg-")
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    server = OwnPostgres(bindir, os.path.join(home, "data"), free_port())
    subprocess.run([*server.prefix, os.path.join(bindir, "initdb"), "-D", server.data, "-U", "postgres", "-A", "trust",
                    "-E", "UTF8", "--locale=C", "--no-sync"], check=True, capture_output=True, timeout=120)
    server.start()
    try:
        _create_tables(server.url)
        yield server
    finally:
        try:
            server.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already down: the test failed while it was stopped
        shutil.rmtree(home, ignore_errors=True)


def test_database_restarted_while_messages_flow(own_postgres, twilio):
    from bot.config import Settings
    from tests import conftest
    from tests.fakes import ScriptedRasa
    from webhooks import create_app

    settings = Settings(public_base_url=conftest.PUBLIC_BASE_URL, database_url=own_postgres.url,
                        twilio_account_sid=conftest.ACCOUNT_SID, twilio_auth_token=conftest.AUTH_TOKEN,
                        twilio_api_base_url=twilio.url, lease_seconds=1.0)
    live = services_mod.build(settings, clock=SystemClock(), rasa=ScriptedRasa())
    dispatcher = Dispatcher(live, threads=2, poll_seconds=0.1).start()
    app_client = create_app(services=live).test_client()
    numbers = [f"+4477009009{60 + n}" for n in range(3)]
    down, restarted, refused = threading.Event(), threading.Event(), []

    def restart():
        own_postgres.stop()
        down.set()
        time.sleep(1.0)  # down long enough for webhooks and workers to meet it
        own_postgres.start()
        restarted.set()

    try:
        restarter = None
        for n in range(10):
            for number in numbers:
                p = conftest.Phone(app_client, settings, number)
                form = p.form(f"m{n}")
                # Twilio retries a webhook that failed (connection override #rc); so does this.
                while True:
                    try:
                        if p.post_form(form).status_code == 200:
                            break
                    except Exception:
                        pass
                    refused.append(form["MessageSid"])
                    time.sleep(0.1)
            if n == 3:
                restarter = threading.Thread(target=restart)
                restarter.start()
                assert down.wait(60)  # the rest arrive while it is down, and after
        restarter.join(90)
        assert restarted.is_set() and refused, "no webhook met the database down"
        for number in numbers:
            wait_until(lambda number=number: len(bodies(twilio, number)) >= 10, 60, "replies after the restart")
        time.sleep(0.5)
        for number in numbers:
            assert bodies(twilio, number) == [f"got: m{n}" for n in range(10)]
    finally:
        dispatcher.stop()
        live.db.engine.dispose()
