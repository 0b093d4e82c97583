"""The parts a running CarerText is made of, built once from the settings."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from bot.adapters.chat_alert import ChatAlert, WebhookChat
from bot.adapters.mailer import Mailer, SmtpMailer
from bot.adapters.rasa_client import DialogueModel, RasaClient
from bot.adapters.twilio_sender import MessageSender, TwilioSender
from bot.catalogue import Catalogue, default_catalogue
from bot.timing.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import Database
from bot.duty.safeguarding import Concern, shared_screen


# Feature modules that plug into the conversation and the outbox: each has install(services).
FEATURES: list[str] = ["bot.timing.reminders", "bot.privacy.erasure", "bot.council.broadcasts"]


@dataclass
class Services:
    """Everything a request or a job needs; tests swap the clock or an outside party."""

    settings: Settings
    db: Database
    clock: Clock
    rasa: DialogueModel
    sender: MessageSender
    catalogue: Catalogue
    extra: dict[str, Any] = field(default_factory=dict)
    mailer: Mailer | None = None  # staff e-mail (duty alerts); None without SMTP_URL
    chat: ChatAlert | None = None  # the duty team's chat (duty alerts); None without DUTY_WEBHOOK_URL
    screen: Callable[[str], Concern | None] | None = None  # the safeguarding screen; the shared one if None

    def __post_init__(self):
        from bot.messaging.conversation import Conversations
        from bot.messaging.outbox import Outbox

        if self.screen is None:
            self.screen = shared_screen(self.settings)
        self.outbox = Outbox(self.db, self.sender, self.settings, self.clock)
        self.outbox.mailer = self.mailer
        self.outbox.chat = self.chat
        self.conversations = Conversations(self)
        self.wake = None  # set by a Dispatcher running in this process
        # Called as hook(session, carer, conversation, message) when a carer's message is handled.
        self.on_inbound: list = []
        for name in FEATURES:
            module = importlib.import_module(name)
            module.install(self)

    def notify(self, carer_id: int | None = None, claim=None) -> None:
        """Wake the in-process workers: a message of this carer has been stored (and maybe handed over)."""
        if self.wake is not None:
            self.wake(carer_id, claim)


def build(settings: Settings, *, clock: Clock | None = None, rasa: DialogueModel | None = None,
          sender: MessageSender | None = None, db: Database | None = None, mailer: Mailer | None = None,
          chat: ChatAlert | None = None) -> Services:
    """Build the services from settings; tests pass their own clock or fakes."""
    return Services(
        settings=settings,
        db=db or Database(settings.database_url),
        clock=clock or SystemClock(),
        rasa=rasa or RasaClient(settings.rasa_url, settings.rasa_timeout_seconds),
        sender=sender or TwilioSender(settings.twilio_account_sid, settings.twilio_auth_token,
                                      settings.twilio_api_base_url),
        catalogue=default_catalogue(),
        mailer=mailer or (SmtpMailer(settings.smtp_url, settings.alert_email_from) if settings.smtp_url else None),
        chat=chat or (WebhookChat(settings.duty_webhook_url, settings.duty_webhook_format)
                      if settings.duty_webhook_url else None),
    )
