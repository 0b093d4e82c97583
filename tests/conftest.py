"""Fixtures: a fresh database per test (SQLite, and PostgreSQL when configured), Twilio's stand-in,
signed webhooks, and the real Rasa server trained from rasa_project/."""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from bot import services as services_mod
from bot.timing.clock import FakeClock
from bot.config import Settings
from bot import all_models  # noqa: F401  (every table on Base.metadata)
from bot.models import Base
from tests.fakes import ScriptedRasa

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "1" * 32
PUBLIC_BASE_URL = "https://carertext.example.org"
# make test sets this to the machine's PostgreSQL; without it only SQLite runs.
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")

DATABASES = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


def _postgres_schema_url(schema: str) -> str:
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}{urlencode({'options': f'-csearch_path={schema}'})}"


def _create_tables(url: str) -> None:
    from bot.db import make_engine

    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    """An empty database with every table: a SQLite file, or a schema of its own in PostgreSQL.

    Tables come from the models; tests/test_migrations.py proves the migrations build the same schema.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'carertext.db'}"
        _create_tables(url)
        yield url
        return
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = _postgres_schema_url(schema)
    _create_tables(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def standin():
    """Twilio's Messages API stand-in, validating every request against Twilio's OpenAPI spec."""
    from standin.server import run_standin_in_thread

    url, handle = run_standin_in_thread(AUTH_TOKEN, ACCOUNT_SID)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def rasa_server(tmp_path_factory):
    """The real Rasa server with a model trained from rasa_project/ (cached by a hash of its files)."""
    from tests.rasa_server import RasaServer

    server = RasaServer(tmp_path_factory.mktemp("rasa")).start()
    yield server
    server.stop()


@pytest.fixture
def twilio(standin):
    """The stand-in, emptied; callbacks off, since the test client's gateway has no real address."""
    standin.reset()
    standin.set_faults(callbacks="off")
    return standin


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def settings(database_url, standin):
    return Settings(
        public_base_url=PUBLIC_BASE_URL, database_url=database_url, twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN, twilio_api_base_url=standin.url, rasa_url="http://127.0.0.1:9",
        apology_after_seconds=60.0, lease_seconds=30.0,
    )


@pytest.fixture
def rasa():
    """A scripted dialogue model for tests of the plumbing, not of the conversation."""
    return ScriptedRasa()


@pytest.fixture
def services(settings, clock, rasa, twilio):
    built = services_mod.build(settings, clock=clock, rasa=rasa)
    yield built
    built.db.engine.dispose()


@pytest.fixture
def app(services):
    from webhooks import create_app

    app = create_app(services=services)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


class Phone:
    """Sends messages to the gateway exactly as Twilio does: the same form, signed the same way."""

    def __init__(self, client, settings, number: str, channel: str = "sms"):
        self.client, self.settings, self.number, self.channel = client, settings, number, channel

    @property
    def address(self) -> str:
        return f"whatsapp:{self.number}" if self.channel == "whatsapp" else self.number

    def form(self, body: str, sid: str | None = None, **extra) -> dict:
        form = {
            "MessageSid": sid or "SM" + uuid.uuid4().hex, "SmsMessageSid": "",
            "AccountSid": self.settings.twilio_account_sid, "From": self.address,
            "To": self.settings.twilio_whatsapp_from if self.channel == "whatsapp" else self.settings.twilio_sms_from,
            "Body": body, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01",
        }
        form["SmsMessageSid"] = form["MessageSid"]
        if self.channel == "whatsapp":
            form.update({"ProfileName": "Sam", "WaId": self.number.lstrip("+")})
        form.update(extra)
        return form

    def send(self, body: str, sid: str | None = None, signature: str | None = None, **extra):
        form = self.form(body, sid, **extra)
        return self.post_form(form, signature)

    def post_form(self, form: dict, signature: str | None = None, path: str = "/webhooks/twilio/messages"):
        url = self.settings.public_base_url + path
        if signature is None:
            signature = RequestValidator(self.settings.twilio_auth_token).compute_signature(url, form)
        return self.client.post(path, data=form, headers={"X-Twilio-Signature": signature})


@pytest.fixture
def phone(client, settings):
    def make(number: str = "+447700900123", channel: str = "sms") -> Phone:
        return Phone(client, settings, number, channel)
    return make
