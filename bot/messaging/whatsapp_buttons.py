"""WhatsApp buttons for a question's choices: one Twilio Content per choice set, used inside the 24-hour window.

The numbered text ("1. Yes / 2. No") stays the message of record: SMS, the console and every fallback use it.
On WhatsApp, inside the window, the same question goes out as a Content whose one variable is the question's
text and whose buttons (or list items) are the choices' catalogue texts, each with its number as the id. A tap
comes back as that number and title, stored as the numbered line the carer would have typed ("2. No").
The limits below are Twilio's (Content API documentation) and WhatsApp's; the README names the sources.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, TypedDict

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.adapters.twilio_content import ContentApi
from bot.catalogue import Catalogue, choice_line
from bot.config import ROOT
from bot.models import Carer, ChoiceButtons, Message
from bot.messaging.outbox import window_open
from bot.parts import Core


QUICK_REPLY_BUTTONS = 3  # twilio/quick-reply sent in a session without approval
BUTTON_TITLE_MAX = 20  # a WhatsApp reply button's title
LIST_ITEMS = 10  # twilio/list-picker
LIST_ITEM_MAX = 24
LIST_DESCRIPTION_MAX = 72
LIST_BUTTON_MAX = 20  # the WhatsApp list's button label
BODY_MAX = 1024  # the body of both types, so the question filling it too
QUESTION = "1"  # the Content's one variable: the question's text
QUICK_REPLY, LIST_PICKER = "twilio/quick-reply", "twilio/list-picker"
ACTIONS = ROOT / "rasa_project" / "actions"


class Unfit(ValueError):
    """This choice set cannot be shown as WhatsApp buttons; carers get the numbered text."""


@dataclass(frozen=True)
class Design:
    """The Content one choice set needs in one language, built from the catalogue alone."""

    language: str
    choices: tuple[str, ...]
    content_type: str
    types: dict[str, Any]
    variables: dict[str, str]
    fingerprint: str

    @property
    def key(self) -> str:
        return ",".join(self.choices)

    @property
    def friendly_name(self) -> str:
        """Unique to the texts: a changed catalogue text makes a new Content, never edits an old one."""
        return f"carertext_choices_{self.language}_{self.fingerprint[:16]}"


def design(catalogue: Catalogue, language: str, choices: tuple[str, ...]) -> Design:
    """The quick replies (up to 3) or list (up to 10) for these choices; Unfit if WhatsApp cannot show them."""
    titles = [catalogue.text(c, language) for c in choices]
    if not titles or any(not t for t in titles) or len(set(titles)) != len(titles):
        raise Unfit("choices must be distinct and not empty")
    if len(titles) <= QUICK_REPLY_BUTTONS and max(map(len, titles)) <= BUTTON_TITLE_MAX:
        content_type = QUICK_REPLY
        body = {"body": "{{%s}}" % QUESTION,
                "actions": [{"type": "QUICK_REPLY", "title": t, "id": str(i)} for i, t in enumerate(titles, 1)]}
    elif len(titles) <= LIST_ITEMS and max(map(len, titles)) <= LIST_ITEM_MAX:
        content_type = LIST_PICKER
        button = catalogue.text("buttons.list_button", language)
        items = [{"item": t, "id": str(i), "description": catalogue.text("buttons.list_item", language, n=i)}
                 for i, t in enumerate(titles, 1)]
        if not button or len(button) > LIST_BUTTON_MAX:
            raise Unfit(f"buttons.list_button must be 1 to {LIST_BUTTON_MAX} characters")
        if any(len(item["description"]) > LIST_DESCRIPTION_MAX for item in items):
            raise Unfit(f"buttons.list_item longer than {LIST_DESCRIPTION_MAX} characters")
        body = {"body": "{{%s}}" % QUESTION, "button": button, "items": items}
    else:
        raise Unfit(f"more than {LIST_ITEMS} choices or a choice longer than {LIST_ITEM_MAX} characters")
    types = {content_type: body}
    variables = {QUESTION: catalogue.text("buttons.question_sample", language)}
    made_of = json.dumps({"language": language, "choices": choices, "types": types, "variables": variables},
                         sort_keys=True)
    return Design(language, tuple(choices), content_type, types, variables,
                  hashlib.sha256(made_of.encode()).hexdigest())


@lru_cache(maxsize=512)
def _design(catalogue: Catalogue, language: str, choices: tuple[str, ...]) -> Design | None:
    try:
        return design(catalogue, language, choices)
    except Unfit:
        return None


def choice_sets(actions: Path = ACTIONS) -> list[tuple[str, ...]]:
    """Every choice set the assessment asks with: its questions' choices and the flow's own (consent, carry on)."""
    found: list[tuple[str, ...]] = []
    questions = yaml.safe_load((actions / "questions.yml").read_text(encoding="utf-8"))
    for section in questions["sections"]:
        found += [tuple(q["choices"]) for q in section["questions"] if q.get("choices")]
    for source in sorted(actions.glob("*.py")):
        for listed in re.findall(r"choices=\[([^\]]*)\]", source.read_text(encoding="utf-8")):
            keys = tuple(re.findall(r"[\"'](choice\.[a-z_]+)[\"']", listed))
            if keys:
                found.append(keys)
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Outcome:
    """What the command did for one choice set in one language."""

    language: str
    key: str
    status: str  # kept, found, created, unfit
    content_type: str = ""
    content_sid: str = ""
    reason: str = ""


def sync(session: Session, api: ContentApi, catalogue: Catalogue, now: datetime,
         sets: list[tuple[str, ...]]) -> list[Outcome]:
    """Make sure every choice set has its Content in every language; safe to run again at any time.

    A stored Content made from the same texts, and still at Twilio, is kept; otherwise one Twilio already holds
    under the same name is adopted (a run that stopped half way), and only then is a new one created.
    """
    outcomes: list[Outcome] = []
    existing = api.existing()  # one list call: a Content deleted at Twilio (or a restarted stand-in) is remade
    held = set(existing.values())
    for language in catalogue.languages:
        for choices in sets:
            key = ",".join(choices)
            try:
                made = design(catalogue, language, choices)
            except Unfit as exc:
                outcomes.append(Outcome(language, key, "unfit", reason=str(exc)))
                continue
            row = session.scalars(select(ChoiceButtons).where(ChoiceButtons.language == language,
                                                              ChoiceButtons.choices == key)).first()
            if row is not None and row.fingerprint == made.fingerprint and row.content_sid in held:
                outcomes.append(Outcome(language, key, "kept", row.content_type, row.content_sid))
                continue
            sid, status = existing.get(made.friendly_name), "found"
            if sid is None:
                sid, status = api.create(made.friendly_name, language, made.variables, made.types), "created"
                existing[made.friendly_name] = sid
            if row is None:
                row = ChoiceButtons(language=language, choices=key)
                session.add(row)
            row.content_type, row.content_sid, row.fingerprint, row.created_at = \
                made.content_type, sid, made.fingerprint, now
            session.flush()
            outcomes.append(Outcome(language, key, status, made.content_type, sid))
    return outcomes


class Buttons(TypedDict, total=False):
    """A reply's Content when WhatsApp buttons carry its choices: the outbox's content_ arguments."""

    content_sid: str
    content_variables: dict[str, str]


def for_reply(session: Session, services: Core, carer: Carer, msg: Message | None,
              custom: Mapping[str, Any]) -> Buttons:
    """content_sid and content_variables for a reply with choices, when WhatsApp buttons can carry it; else {}."""
    choices = custom.get("choices")
    channel = msg.channel if msg is not None else carer.channel
    now = services.clock.now()
    if not choices or channel != "whatsapp" or not services.settings.whatsapp_buttons \
            or not window_open(carer, now):
        return {}
    made = _design(services.catalogue, carer.language, tuple(choices))
    if made is None:
        return {}
    # Read without flushing the turn: nothing it holds touches the Content, and a flush here would write the
    # turn before its first reply could leave (a transaction held over the Twilio call, and a slower reply).
    with session.no_autoflush:
        row = session.execute(select(ChoiceButtons.content_sid, ChoiceButtons.fingerprint)
                              .where(ChoiceButtons.language == carer.language,
                                     ChoiceButtons.choices == made.key)).first()
    if row is None or row.fingerprint != made.fingerprint:
        return {}  # not made yet, or made from texts the catalogue no longer has: the numbered text
    question = services.catalogue.text(custom["say"], carer.language, **(custom.get("vars") or {}))
    if not question.strip() or len(question) > BODY_MAX:
        return {}
    return {"content_sid": row.content_sid, "content_variables": {QUESTION: question}}


def tapped_choice(form: Mapping[str, str]) -> str | None:
    """A tapped button or list item as the numbered line the carer saw ("2. No"); None for anything else.

    Our ids are the choice numbers. Twilio sends a tap as ButtonPayload and ButtonText (and a list pick as
    ListId and ListTitle); any other payload (an approved template's own buttons) is left as its Body.
    """
    for id_field, title_field in (("ButtonPayload", "ButtonText"), ("ListId", "ListTitle")):
        number = (form.get(id_field) or "").strip()
        title = (form.get(title_field) or form.get("Body") or "").strip()
        if re.fullmatch(r"[1-9][0-9]?", number) and int(number) <= LIST_ITEMS and title:
            return choice_line(int(number), title)
    return None
