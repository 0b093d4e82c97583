"""A Rasa action that runs one turn of flow.Conversation and turns the result into events."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .flow import DEFAULTS, Turn, handle


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
        slots = {k: tracker.get_slot(k) for k in DEFAULTS}
        result = handle(self.command, slots, turn_from(tracker))
        for custom in result.messages:
            dispatcher.utter_message(json_message=custom)
        return [SlotSet(k, v) for k, v in result.slots.items()]
