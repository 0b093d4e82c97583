"""Faults a deployment meets: each carer still gets each reply exactly once, in order."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot import services as services_mod
from bot.clock import SystemClock
from bot.config import ROOT
from bot.models import Message
from bot.worker import Dispatcher
from tests.rasa_server import free_port


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
            wait_until(lambda: len(bodies(twilio, number)) >= 8, 60, f"all replies after restart")
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


@pytest.fixture
def own_postgres():
    """A schema of its own, made and dropped through engines that survive the restart (pre-ping)."""
    from sqlalchemy import create_engine, text

    from tests.conftest import POSTGRES_URL, _create_tables, _postgres_schema_url

    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set")
    if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
        pytest.skip("pg_ctlcluster (as root) is not available here")
    schema = "f_" + uuid.uuid4().hex[:12]
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = _postgres_schema_url(schema)
    _create_tables(url)
    yield url
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "start"], capture_output=True)
    wait_until(lambda: subprocess.run(["pg_isready", "-h", "127.0.0.1"], capture_output=True).returncode == 0,
               60, "PostgreSQL back")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def test_database_restarted_while_messages_flow(own_postgres, twilio):
    from bot.config import Settings
    from tests import conftest
    from tests.fakes import ScriptedRasa
    from webhooks import create_app

    settings = Settings(public_base_url=conftest.PUBLIC_BASE_URL, database_url=own_postgres,
                        twilio_account_sid=conftest.ACCOUNT_SID, twilio_auth_token=conftest.AUTH_TOKEN,
                        twilio_api_base_url=twilio.url, lease_seconds=1.0)
    live = services_mod.build(settings, clock=SystemClock(), rasa=ScriptedRasa())
    dispatcher = Dispatcher(live, threads=2, poll_seconds=0.1).start()
    app_client = create_app(services=live).test_client()
    numbers = [f"+4477009009{60 + n}" for n in range(3)]
    restarted = threading.Event()

    def restart():
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"], check=True,
                       capture_output=True, timeout=60)
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
                    time.sleep(0.1)
            if n == 3:
                restarter = threading.Thread(target=restart)
                restarter.start()
        restarter.join(90)
        assert restarted.is_set()
        for number in numbers:
            wait_until(lambda: len(bodies(twilio, number)) >= 10, 60, "replies after the restart")
        time.sleep(0.5)
        for number in numbers:
            assert bodies(twilio, number) == [f"got: m{n}" for n in range(10)]
    finally:
        dispatcher.stop()
        live.db.engine.dispose()
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "start"], capture_output=True)
