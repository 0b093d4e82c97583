"""A session start that carries every slot over, so an assessment survives the gateway's session restarts."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        events: List[Dict[Text, Any]] = [SessionStarted()]
        for key, value in (tracker.slots or {}).items():
            if value is not None and key != "session_started_metadata":
                events.append(SlotSet(key, value))
        events.append(ActionExecuted("action_listen"))
        return events
