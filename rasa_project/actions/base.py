"""A Rasa action that runs one turn of flow.Conversation and turns the result into events."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Text

import yaml

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .flow import DEFAULTS, Turn, handle

FLOW_ACTIONS = {"action_assessment_step", "action_skip", "action_change_answer", "action_repeat", "action_summary",
                "action_pause", "action_resume", "action_help", "action_handoff", "action_contact_window",
                "action_reminder", "action_handback", "action_opt_out", "action_opt_in", "action_erase",
                "action_what_is_this", "action_who_sees", "action_how_long", "action_bereavement",
                "action_care_home_or_hospital", "action_wrong_number"}


def already_answered(tracker: Tracker) -> bool:
    """True when a flow action already ran for the latest carer message.

    One carer message gets one turn of the flow: if a policy ever predicts a second flow action before
    listening again, it must not answer twice (the doubled greeting and privacy notice).
    """
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") in FLOW_ACTIONS:
            return True
    return False


def turn_from(tracker: Tracker) -> Turn:
    """Read the latest carer message: intent, confidence, words and the gateway's metadata."""
    latest = tracker.latest_message or {}
    intent = latest.get("intent") or {}
    return Turn(
        intent=intent.get("name") or "inform",
        confidence=float(intent.get("confidence") or 0.0),
        text=latest.get("text") or "",
        metadata=latest.get("metadata") or {},
    )


class FlowAction(Action):
    """Base class: subclasses name the action and the command it runs."""

    action_name = ""
    command = "answer"

    def name(self) -> Text:
        return self.action_name

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if already_answered(tracker):
            return []
        slots = {k: tracker.get_slot(k) for k in DEFAULTS}
        result = handle(self.command, slots, turn_from(tracker))
        for custom in result.messages:
            dispatcher.utter_message(json_message=custom)
        return [SlotSet(k, v) for k, v in result.slots.items()]


def commands_by_intent() -> Dict[Text, Text]:
    """Intent -> the flow command its rule runs, from data/rules and the actions' classes."""
    from . import assessment, commands, privacy  # noqa: F401  (importing defines the actions)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    by_action = {c.action_name: c.command for c in subclasses(FlowAction) if c.action_name}
    out: Dict[Text, Text] = {}
    for path in sorted((Path(__file__).resolve().parents[1] / "data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8")).get("rules", []):
            steps = rule["steps"]
            for first, second in zip(steps, steps[1:]):
                if "intent" in first and second.get("action") in by_action:
                    out.setdefault(first["intent"], by_action[second["action"]])
    return out
