"""The Rasa server, reached over HTTP."""

from __future__ import annotations

from typing import Any, Protocol

import requests


class RasaUnavailable(Exception):
    """Rasa could not be reached or failed; the message stays in the inbox and is retried."""


class DialogueModel(Protocol):
    def reply(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]: ...
    def trigger(self, sender: str, intent: str, entities: dict | None = None) -> list[dict[str, Any]]: ...
    def new_session(self, sender: str) -> None: ...
    def replies_after(self, sender: str, message_key: str) -> list[dict[str, Any]] | None: ...
    def healthy(self) -> bool: ...


class RasaClient:
    """Talks to `rasa run --enable-api` over its REST channel and HTTP API."""

    def __init__(self, base_url: str, timeout: float = 20.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()

    def _post(self, path: str, payload: dict) -> Any:
        try:
            response = self.http.post(self.base_url + path, json=payload, timeout=self.timeout)
        except requests.RequestException as exc:
            raise RasaUnavailable(type(exc).__name__) from None
        if response.status_code >= 300:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        return response.json()

    def reply(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """Send one carer message; return Rasa's messages for it."""
        return self._post("/webhooks/rest/webhook", {"sender": sender, "message": text, "metadata": metadata})

    def trigger(self, sender: str, intent: str, entities: dict | None = None) -> list[dict[str, Any]]:
        """Start a turn the carer did not start (a reminder, a hand-back)."""
        result = self._post(
            f"/conversations/{sender}/trigger_intent?output_channel=latest",
            {"name": intent, "entities": entities or {}},
        )
        return result.get("messages", [])

    def new_session(self, sender: str) -> None:
        """Start a new Rasa session; slots carry over, so the next turns replay little."""
        self._post(f"/conversations/{sender}/execute", {"name": "action_session_start"})

    def replies_after(self, sender: str, message_key: str) -> list[dict[str, Any]] | None:
        """The replies Rasa already gave to a message, if it saw it (after a crash); else None."""
        try:
            response = self.http.get(f"{self.base_url}/conversations/{sender}/tracker", timeout=self.timeout)
        except requests.RequestException as exc:
            raise RasaUnavailable(type(exc).__name__) from None
        if response.status_code >= 300:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        events = response.json().get("events") or []
        found = False
        replies: list[dict[str, Any]] = []
        for ev in events:
            if ev.get("event") == "user":
                if found:
                    break
                found = (ev.get("metadata") or {}).get("message_key") == message_key
            elif found and ev.get("event") == "bot":
                data = ev.get("data") or {}
                item: dict[str, Any] = {}
                if ev.get("text"):
                    item["text"] = ev["text"]
                if data.get("custom") is not None:
                    item["custom"] = data["custom"]
                if item:
                    replies.append(item)
        return replies if found else None

    def healthy(self) -> bool:
        try:
            return self.http.get(self.base_url + "/status", timeout=3).status_code == 200
        except requests.RequestException:
            return False
