"""Settings read from the environment once."""

from __future__ import annotations

import functools
import logging
import os
import secrets
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@functools.cache
def random_secret_key() -> str:
    """One random console key for this process, when SECRET_KEY is not set."""
    # A fixed fallback would be published with the code, so anyone could forge a console sign-in.
    logging.getLogger("carertext.web").warning(
        "SECRET_KEY not set: a random key is used, and sign-ins end when the gateway restarts")
    return secrets.token_urlsafe(32)


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
    # And/or by e-mail to these addresses (comma-separated; a duty team's shared inbox), through SMTP_URL.
    duty_email: str = ""
    # And/or to the duty team's chat: a Teams or Slack incoming-webhook URL (a secret: from the environment).
    duty_webhook_url: str = ""
    # What that webhook takes: text ({"text": ...}: Slack and most tools) or teams (an Adaptive Card).
    duty_webhook_format: str = "text"
    # The mail server for duty e-mails: smtp://user:password@host:587 (STARTTLS), smtps://host:465.
    smtp_url: str = ""
    alert_email_from: str = "carertext@localhost"
    # When the duty team is in (local time, on working days); outside it, risk replies and alerts say so.
    duty_hours: str = "09:00-17:00"
    # The council's out-of-hours emergency duty team, given to a carer at risk when the office is closed.
    emergency_duty_phone: str = ""
    # While a person has a carer's case, a later message is acknowledged at most once in this many minutes.
    safeguarding_ack_minutes: int = 60
    # How long a worker holds a carer before another may take over (seconds): survives a crash.
    lease_seconds: float = 30.0
    # Nudges after a carer goes quiet, counted from their last message; the last one says it is saved.
    reminder_schedule: str = "1d,3d,7d"
    # UK time when no reminder goes out (a due one waits); replies to a carer who texted are never held.
    quiet_hours: str = "21:00-08:00"
    # The clock quiet hours and carers' windows are read in (summer time handled by zoneinfo).
    timezone: str = "Europe/London"
    # How often the scheduler looks for due reminders (seconds).
    reminder_tick_seconds: float = 15.0
    # Most reminders handed to the outbox in one tick, so a backlog cannot hold one tick for long.
    reminder_batch: int = 500
    # Councils review assessments, typically yearly: a review reminder this long after completion.
    review_after: str = "365d"
    # Approved WhatsApp template (HX...) for nudges outside the 24h window; empty: SMS fallback or none.
    whatsapp_reminder_content_sid: str = ""
    # The template's variables as JSON; {section} becomes the friendly section words.
    whatsapp_reminder_content_variables: str = '{"1": "{section}"}'
    # Approved WhatsApp template for the review reminder; empty: SMS fallback or none.
    whatsapp_review_content_sid: str = ""
    # How soon a person should pick up a handoff, per urgency; the console shows waited against these.
    handoff_target_urgent_minutes: int = 15
    # "Soon" counts working days (Monday to Friday, not a bank holiday): a Friday request is due on Monday.
    handoff_target_soon_working_days: int = 1
    # The bank holidays working days skip: a file of YYYY-MM-DD lines; empty: England and Wales, 2026-2028.
    bank_holidays_file: str = ""
    handoff_target_routine_days: int = 5
    # How often an open console page asks for new urgent handoffs (seconds).
    console_poll_seconds: int = 10
    # Personal data is erased this many days after a carer's case closes (bot.privacy.retention.erase_expired).
    retention_days: int = 365
    # Per-number flood control: messages a minute handled at once after a burst of this many.
    rate_limit_per_minute: int = 30
    rate_limit_burst: int = 60
    # A flooding number's messages beyond this much waiting are stored but not answered (collapsed).
    rate_limit_backlog_seconds: float = 600.0
    # Rasa's SQL tracker store (SQLAlchemy URL), so an erasure can delete a carer's dialogue events.
    rasa_tracker_db_url: str = ""
    # Rasa's HTTP API token (`rasa run --auth-token`): without it anyone who reaches Rasa reads trackers.
    rasa_token: str = ""
    # A console sign-in lasts this long (hours) before the worker signs in again.
    console_session_hours: float = 12.0
    # Broadcasts leave each sender (SMS number, WhatsApp sender or Messaging Service) at most this fast.
    send_rate_per_second: float = 1.0
    # How often the scheduler hands the next slice of a running broadcast to the outbox (seconds).
    broadcast_tick_seconds: float = 1.0
    # Most broadcast recipients handed to the outbox in one tick, so no tick holds the database for long.
    broadcast_batch: int = 500
    # Approved WhatsApp template (HX...) for broadcasts outside the 24h window; empty: SMS fallback or skip.
    whatsapp_broadcast_content_sid: str = ""
    # The template's variables as JSON; {message} becomes the broadcast's text.
    whatsapp_broadcast_content_variables: str = '{"1": "{message}"}'
    # A conversation silent this many days without finishing counts as abandoned in the reports.
    report_abandoned_after_days: int = 14
    # Choices go to WhatsApp carers as buttons inside the 24h window, once `carertext whatsapp-buttons` has made them.
    whatsapp_buttons: bool = True
    # The risk classifier's trained heads (`make model` trains them), and the dialogue model's project,
    # whose examples are ordinary talk for the classifier too.
    safeguarding_model: str = str(ROOT / ".cache" / "safeguarding-head.npz")
    rasa_project: str = str(ROOT / "rasa_project")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> "Settings":
        """Read settings from the environment, with explicit overrides for tests."""
        env = dict(os.environ if env is None else env)
        # each value has its own field's type: bool, int, float or str
        values: dict[str, Any] = {}
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

    def with_(self, **changes: Any) -> "Settings":
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
        missing = [n for n in ("secret_key", "twilio_auth_token", "rasa_token", "rasa_tracker_db_url")
                   if not getattr(self, n)]
        if missing:
            raise RuntimeError("production mode needs " + ", ".join(m.upper() for m in missing))
