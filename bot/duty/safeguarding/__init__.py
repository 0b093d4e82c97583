"""The safeguarding screen, run on every inbound message before the dialogue model: phrases and meaning."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from bot.duty.safeguarding import phrases

if TYPE_CHECKING:  # the classifier brings NumPy and SciPy: loaded on first use, not on import
    from bot.config import Settings
    from bot.duty.safeguarding.classifier import RiskClassifier


class Tier(IntEnum):
    """How a risk is answered: each tier has its own reply, urgency and alert."""

    NONE = 0
    STRAIN = 1  # ask kindly whether they are safe now; a "soon" handoff; the assessment carries on
    RISK_DISCLOSED = 2  # name what was heard, the right lines, an urgent handoff and alert
    DANGER_NOW = 3  # 999 first, an urgent handoff and alert at once


TIER_NAMES = {"none": Tier.NONE, "strain": Tier.STRAIN, "risk_disclosed": Tier.RISK_DISCLOSED,
              "danger_now": Tier.DANGER_NOW}


@dataclass(frozen=True)
class Concern:
    """What the screen found: how serious, and the kinds of risk, for the reply and the duty worker."""

    tier: Tier
    flags: tuple[str, ...]


class Screen:
    """Both nets together: the phrase screen and the learned classifier; the more serious reading wins."""

    def __init__(self, classifier: RiskClassifier | None = None):
        self.classifier = classifier

    def __call__(self, text: str) -> Concern | None:
        name, flags = phrases.read(text)
        tier = TIER_NAMES[name]
        if self.classifier is not None and text.strip():
            reading = self.classifier.read(text)
            learned = TIER_NAMES[reading.tier]
            if learned > tier:
                tier = learned
            if learned > Tier.NONE:
                flags = tuple(dict.fromkeys(flags + reading.categories))
        if tier == Tier.NONE:
            return None
        return Concern(tier, flags or ("unspecified",))


_shared: Screen | None = None
_lock = threading.Lock()


def shared_screen(settings: Settings | None = None) -> Screen:
    """The process's screen, with the classifier loaded (or trained from the corpus) on first use."""
    global _shared
    with _lock:
        if _shared is None:
            from bot.config import Settings
            from bot.duty.safeguarding.classifier import build

            _shared = Screen(build(settings or Settings.from_env()))
        return _shared


def screen(text: str) -> Concern | None:
    """Flag a message that may disclose risk; false alarms are acceptable, misses are not."""
    return shared_screen()(text)
