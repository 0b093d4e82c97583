"""The composition root: every part of a running CarerText, built here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Callable

from bot.adapters.chat_alert import ChatAlert, WebhookChat
from bot.adapters.mailer import Mailer, SmtpMailer
from bot.adapters.rasa_client import DialogueModel, RasaClient
from bot.adapters.twilio_sender import MessageSender, TwilioSender
from bot.catalogue import Catalogue, default_catalogue
from bot.config import Settings
from bot.council import broadcasts
from bot.db import Database
from bot.duty.safeguarding import Concern, shared_screen
from bot.messaging.conversation import Conversations
from bot.messaging.inbox import Claim
from bot.messaging.outbox import Outbox
from bot.privacy import erasure, retention
from bot.timing import reminders
from bot.timing.clock import Clock, SystemClock
from bot.timing.scheduler import BROADCASTS_JOB_ID, REMINDERS_JOB_ID, RETENTION_JOB_ID, Job


@dataclass
class Services:
    """Everything a request or a job needs; tests swap the clock or an outside party."""

    settings: Settings
    db: Database
    clock: Clock
    rasa: DialogueModel
    sender: MessageSender
    catalogue: Catalogue
    screen: Callable[[str], Concern | None]  # the safeguarding screen
    mailer: Mailer | None  # staff e-mail (duty alerts); None without SMTP_URL
    chat: ChatAlert | None  # the duty team's chat (duty alerts); None without DUTY_WEBHOOK_URL
    outbox: Outbox
    reminders: reminders.Reminders
    # Built after the rest: the conversation's handlers reach every part through these services.
    conversations: Conversations = field(init=False)
    jobs: list[Job] = field(init=False)
    # Set by a Dispatcher running in this process: wake its workers when a carer's message is stored.
    wake: Callable[[int | None, Claim | None], None] | None = None

    def notify(self, carer_id: int | None = None, claim: Claim | None = None) -> None:
        """Wake the in-process workers: a message of this carer has been stored (and maybe handed over)."""
        if self.wake is not None:
            self.wake(carer_id, claim)


def build(settings: Settings, *, clock: Clock | None = None, rasa: DialogueModel | None = None,
          sender: MessageSender | None = None, db: Database | None = None, mailer: Mailer | None = None,
          chat: ChatAlert | None = None, screen: Callable[[str], Concern | None] | None = None) -> Services:
    """Build every part from the settings, in the order a carer's message meets them; tests pass fakes."""
    # Outside parties, each behind a small interface.
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    rasa = rasa or RasaClient(settings.rasa_url, settings.rasa_timeout_seconds, settings.rasa_token)
    sender = sender or TwilioSender(settings.twilio_account_sid, settings.twilio_auth_token,
                                    settings.twilio_api_base_url)
    mailer = mailer or (SmtpMailer(settings.smtp_url, settings.alert_email_from) if settings.smtp_url else None)
    chat = chat or (WebhookChat(settings.duty_webhook_url, settings.duty_webhook_format)
                    if settings.duty_webhook_url else None)
    screen = screen or shared_screen(settings)
    catalogue = default_catalogue()

    # The one way out. A broadcast message waits for its sender's slot (the pace); free text to a closed
    # WhatsApp window goes as a template or by SMS; a settled goodbye lets erasure drop the number.
    window = reminders.WindowRoutes(settings, clock, catalogue)
    outbox = Outbox(db, sender, settings, clock, mailer=mailer, chat=chat,
                    gates=[broadcasts.SendGate(settings, clock)],
                    on_settled=[erasure.on_settled],
                    on_outside_window=window.on_outside_window)
    nudges = reminders.Reminders(db, clock, settings, catalogue, outbox, window)

    services = Services(settings=settings, db=db, clock=clock, rasa=rasa, sender=sender, catalogue=catalogue,
                        screen=screen, mailer=mailer, chat=chat, outbox=outbox, reminders=nudges)

    # The way in: a carer's message, then each event Rasa sends back. The conversation handles its own
    # events; these add to it, the reminders' once the reply has left (off the reply path).
    services.conversations = Conversations(
        services,
        on_inbound=[nudges.on_inbound],
        events={"erase_confirmed": partial(erasure.on_erase_confirmed, services)},
        after_reply={
            "progress": nudges.on_progress,
            "paused": nudges.on_paused,
            "completed": nudges.on_completed,
            "contact_window": nudges.on_contact_window,
            "opt_out": nudges.on_opt_out,
            "life_event": nudges.on_life_event,
        },
    )

    # What the scheduler process runs (bot.timing.scheduler); the tables say what is due.
    services.jobs = [
        Job(REMINDERS_JOB_ID, timedelta(seconds=settings.reminder_tick_seconds), nudges.tick, at_start=True),
        Job(BROADCASTS_JOB_ID, timedelta(seconds=settings.broadcast_tick_seconds), partial(broadcasts.tick, services)),
        Job(RETENTION_JOB_ID, timedelta(hours=1), partial(retention.erase_expired, services)),
    ]
    return services
