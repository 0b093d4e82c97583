"""Broadcasts: one notice to a chosen group of carers, paced through the outbox, with a report of who was reached.

models: the tables and states; audience: who it reaches and what it costs; sending: its life, a slice at a
time through the outbox; pacing: the gate that keeps every sender under its rate; reporting: who was reached."""

from __future__ import annotations

from bot.council.broadcasts.models import (
    BroadcastState, RecipientState, ASSESSMENT_STATUSES, CHANNELS, AUDIENCE_KEYS, DELIVERED, FAILED, MAX_BODY,
    HELD_FOR_HOURS, Broadcast, BroadcastRecipient, BroadcastPacer, BroadcastSendGate, CarerTag, CarerPostcode,
    BroadcastError,
)
from bot.council.broadcasts.audience import (
    normal_postcode, set_postcode, add_tag, clean_audience, parse_audience, audience_ids, Preview, preview,
)
from bot.council.broadcasts.pacing import (
    sender_key, LOOK_AHEAD, SendGate,
)
from bot.council.broadcasts.sending import (
    create, schedule, cancel, stop, TickResult, tick,
)
from bot.council.broadcasts.reporting import (
    Report, report, listing,
)

# The package's interface.
__all__ = [
    "BroadcastState", "RecipientState", "ASSESSMENT_STATUSES", "CHANNELS", "AUDIENCE_KEYS", "DELIVERED", "FAILED",
    "MAX_BODY", "HELD_FOR_HOURS", "Broadcast", "BroadcastRecipient", "BroadcastPacer", "BroadcastSendGate",
    "CarerTag", "CarerPostcode", "BroadcastError", "normal_postcode", "set_postcode", "add_tag", "clean_audience",
    "parse_audience", "audience_ids", "Preview", "preview", "sender_key", "LOOK_AHEAD", "SendGate", "create",
    "schedule", "cancel", "stop", "TickResult", "tick", "Report", "report", "listing",
]
