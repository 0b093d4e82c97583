"""The deterministic safeguarding screen, run on every inbound message before the dialogue model."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Concern:
    """What the screen found: the kinds of risk, for the duty worker."""

    flags: tuple[str, ...]


# Phrases are matched on a normalised text (lower case, apostrophes dropped, spaces squeezed).
PATTERNS: dict[str, list[str]] = {
    "suicide_self_harm": [
        r"\bkill(ing)? my ?self\b", r"\bsuicid", r"\bend (it all|my life|things)\b", r"\bself ?harm",
        r"\bhurt(ing)? my ?self\b", r"\bcut(ting)? my ?self\b", r"\b(dont|do not) want to (be here|live|go on|wake up)",
        r"\bbetter off (dead|without me)\b", r"\bno (point|reason) (in )?(living|going on|to live)\b",
        r"\b(want|wish) (i was|i were|to be) dead\b", r"\boverdose\b", r"\btake all (my|the|his|her) (pills|tablets)\b",
    ],
    "harm_to_cared_for": [
        r"\b(i|ive|i have|im going to|i might|i could|afraid i will) (hit|hurt|harm|smother|shake|strangle)\b",
        r"\blose it with (him|her|them)\b", r"\bsnap(ped)? and (hit|hurt)\b",
    ],
    "harm_from_cared_for": [
        r"\b(he|she|they) (hits|hit|punches|punched|kicks|kicked|attacks|attacked|hurts|hurt|chokes|choked|threatens|threatened) me\b",
        r"\b(scared|afraid|frightened) of (him|her|them|my)\b", r"\bthreaten(ed|s|ing)? to kill\b",
    ],
    "abuse_neglect": [
        r"\babus(e|ed|ing|ive)\b", r"\bneglect(ed|ing)?\b", r"\b(left|leaving) (him|her|them|mum|dad) alone for days\b",
        r"\bnot (been )?(fed|eating|washed) (for|in) days\b", r"\btaking (his|her|their) money\b",
    ],
    "medical_emergency": [
        r"\b(not|isnt|is not|stopped) breathing\b", r"\bunconscious\b", r"\bcollapsed\b", r"\bchest pain",
        r"\bcant wake (him|her|them)\b", r"\bhaving a (stroke|fit|seizure|heart attack)\b", r"\bambulance\b",
        r"\bcall(ing)? 999\b", r"\bbleeding (badly|a lot|heavily)\b",
    ],
    "cannot_cope": [
        r"\b(cant|can not|cannot|unable to) cope\b", r"\bat breaking point\b", r"\bcant (do|take) (this|it) any ?more\b",
        r"\bat the end of my (tether|rope)\b", r"\bfalling apart\b", r"\bcant go on\b",
    ],
}
COMPILED = {flag: [re.compile(p) for p in patterns] for flag, patterns in PATTERNS.items()}


def normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'").replace("'", "")
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def screen(text: str) -> Concern | None:
    """Flag a message that may disclose risk; false alarms are acceptable, misses are not."""
    norm = normalise(text)
    flags = tuple(flag for flag, patterns in COMPILED.items() if any(p.search(norm) for p in patterns))
    return Concern(flags) if flags else None
