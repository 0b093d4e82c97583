"""The Rasa server, reached over HTTP."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlencode

from bot.adapters.http import HttpFailed, KeepAliveClient


class RasaUnavailable(Exception):
    """Rasa could not be reached or failed; the message stays in the inbox and is retried."""


# One of Rasa's messages as its JSON gives it: "text", and "custom" for our events and catalogue keys.
RasaMessage = dict[str, Any]


class DialogueModel(Protocol):
    def reply(self, sender: str, text: str, metadata: dict[str, Any]) -> list[RasaMessage]: ...
    def trigger(self, sender: str, intent: str, entities: dict[str, Any] | None = None) -> list[RasaMessage]: ...
    def new_session(self, sender: str) -> None: ...
    def replies_after(self, sender: str, message_key: str) -> list[RasaMessage] | None: ...
    def healthy(self) -> bool: ...


class RasaClient:
    """Talks to `rasa run --enable-api` over its REST channel and HTTP API."""

    def __init__(self, base_url: str, timeout: float = 20.0, token: str = ""):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = KeepAliveClient(timeout)
        self.token_query = urlencode({"token": token}) if token else ""

    def _url(self, path: str) -> str:
        # Rasa checks the token on its HTTP API; its REST channel takes none and is kept off the network.
        if not self.token_query or path.startswith("/webhooks/"):
            return self.base_url + path
        return self.base_url + path + ("&" if "?" in path else "?") + self.token_query

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None,
              timeout: float | None = None) -> Any:
        try:
            response = self.http.request(method, self._url(path), json=payload, timeout=timeout)
        except HttpFailed as exc:
            raise RasaUnavailable(str(exc)) from None
        if response.status >= 300:
            raise RasaUnavailable(f"HTTP {response.status}")
        try:
            return response.json()
        except ValueError:
            raise RasaUnavailable("not JSON") from None

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        return self._call("POST", path, payload)

    def reply(self, sender: str, text: str, metadata: dict[str, Any]) -> list[RasaMessage]:
        """Send one carer message; return Rasa's messages for it."""
        messages: list[RasaMessage] = self._post("/webhooks/rest/webhook",
                                                 {"sender": sender, "message": text, "metadata": metadata})
        return messages

    def trigger(self, sender: str, intent: str, entities: dict[str, Any] | None = None) -> list[RasaMessage]:
        """Start a turn the carer did not start (a reminder, a hand-back)."""
        result = self._post(
            f"/conversations/{sender}/trigger_intent?output_channel=latest",
            {"name": intent, "entities": entities or {}},
        )
        messages: list[RasaMessage] = result.get("messages", [])
        return messages

    def new_session(self, sender: str) -> None:
        """Start a new Rasa session; slots carry over, so the next turns replay little."""
        self._post(f"/conversations/{sender}/execute", {"name": "action_session_start"})

    def replies_after(self, sender: str, message_key: str) -> list[RasaMessage] | None:
        """The replies Rasa already gave to a message, if it saw it (after a crash); else None."""
        events = (self._call("GET", f"/conversations/{sender}/tracker") or {}).get("events") or []
        found = False
        replies: list[RasaMessage] = []
        for ev in events:
            if ev.get("event") == "user":
                if found:
                    break
                found = (ev.get("metadata") or {}).get("message_key") == message_key
            elif found and ev.get("event") == "bot":
                data = ev.get("data") or {}
                item: RasaMessage = {}
                if ev.get("text"):
                    item["text"] = ev["text"]
                if data.get("custom") is not None:
                    item["custom"] = data["custom"]
                if item:
                    replies.append(item)
        return replies if found else None

    def healthy(self) -> bool:
        try:
            return self.http.request("GET", self._url("/status"), timeout=3).status == 200
        except HttpFailed:
            return False
