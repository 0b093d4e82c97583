"""Settings read from the environment once."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Every setting CarerText reads; the README's settings table mirrors this."""

    # Where the gateway is reached from the internet; Twilio signs against this, not the internal URL.
    public_base_url: str = "http://127.0.0.1:5000"
    database_url: str = f"sqlite:///{ROOT / 'instance' / 'carertext.db'}"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = 20.0
    # Start a fresh Rasa session after this many carer turns: Rasa's time per turn grows with the session.
    rasa_session_turns: int = 20
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: str = ""
    # Empty means Twilio's own API; the local stand-in sets this in development and tests.
    twilio_api_base_url: str = ""
    twilio_sms_from: str = "+447700900000"
    twilio_whatsapp_from: str = "whatsapp:+447700900000"
    twilio_messaging_service_sid: str = ""
    secret_key: str = ""
    production: bool = False
    simulator: bool = False
    default_language: str = "en"
    # Send a "we'll get back to you" only when Rasa has been unreachable this long for a carer.
    apology_after_seconds: float = 60.0
    outbox_max_attempts: int = 8
    worker_threads: int = 2
    log_level: str = "INFO"
    # Where urgent handoffs are alerted at once (an SMS through the outbox); empty: console only.
    duty_phone: str = ""
    # How long a worker holds a carer before another may take over (seconds): survives a crash.
    lease_seconds: float = 30.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> "Settings":
        """Read settings from the environment, with explicit overrides for tests."""
        env = dict(os.environ if env is None else env)
        values = {}
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw is None:
                continue
            default = f.default
            if isinstance(default, bool):
                values[f.name] = _bool(raw)
            elif isinstance(default, int):
                values[f.name] = int(raw)
            elif isinstance(default, float):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        """Return a copy with some settings changed."""
        return replace(self, **changes)

    @property
    def status_callback_url(self) -> str:
        return self.public_base_url.rstrip("/") + "/webhooks/twilio/status"

    @property
    def inbound_url(self) -> str:
        return self.public_base_url.rstrip("/") + "/webhooks/twilio/messages"

    def check_production(self) -> None:
        """Refuse to start in production mode with secret defaults."""
        if not self.production:
            return
        missing = [n for n in ("secret_key", "twilio_auth_token") if not getattr(self, n)]
        if missing:
            raise RuntimeError("production mode needs " + ", ".join(m.upper() for m in missing))
