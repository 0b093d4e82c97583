"""Fixtures: a stand-in in a thread, a twilio-python client pointed at it, a callback receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask, request
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from werkzeug.serving import make_server

from standin import StandinHandle, run_standin_in_thread

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token"
SMS_FROM = "+447700900000"
CARER = "+447700900123"


@pytest.fixture(scope="session")
def standin_server() -> Iterator[StandinHandle]:
    _, handle = run_standin_in_thread(AUTH_TOKEN, ACCOUNT_SID)
    yield handle
    handle.stop()


@pytest.fixture
def standin(standin_server: StandinHandle) -> StandinHandle:
    standin_server.reset()
    return standin_server


@pytest.fixture
def client(standin: StandinHandle) -> Client:
    twilio = Client(ACCOUNT_SID, AUTH_TOKEN)
    twilio.api.base_url = standin.url
    return twilio


@dataclass
class Callbacks:
    """Status callbacks received, each with whether its signature validated."""

    url: str
    received: list[tuple[dict[str, str], bool]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[dict[str, str], bool]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


@pytest.fixture
def callbacks() -> Iterator[Callbacks]:
    app = Flask("callback-receiver")
    validator = RequestValidator(AUTH_TOKEN)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    sink = Callbacks(f"http://127.0.0.1:{server.server_port}/webhooks/twilio/status")

    @app.post("/webhooks/twilio/status")
    def status() -> tuple[str, int]:
        form = request.form.to_dict()
        valid = validator.validate(request.url, form, request.headers.get("X-Twilio-Signature", ""))
        with sink.arrived:
            sink.received.append((form, valid))
            sink.arrived.notify_all()
        return "", 204

    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield sink
    server.shutdown()
    thread.join(timeout=5)
