"""Fakes for outside parties in tests of the plumbing (the conversation itself uses the real Rasa)."""

from __future__ import annotations

import threading

from bot.adapters.rasa_client import RasaUnavailable


class ScriptedRasa:
    """Answers every message with one catalogue line echoing its order; can be switched off."""

    def __init__(self):
        self.down = False
        self.seen: list[tuple[str, str, dict]] = []
        self.sessions_started: list[str] = []
        self.answered: dict[tuple[str, str | None], list[dict]] = {}  # what Rasa's tracker would hold
        self._lock = threading.Lock()

    def reply(self, sender, text, metadata):
        if self.down:
            raise RasaUnavailable("ConnectionError")
        replies = [{"text": f"got: {text}"}]
        with self._lock:
            self.seen.append((sender, text, metadata))
            self.answered[(sender, (metadata or {}).get("message_key"))] = replies
        return replies

    def trigger(self, sender, intent, entities=None):
        if self.down:
            raise RasaUnavailable("ConnectionError")
        return [{"text": f"trigger: {intent}"}]

    def new_session(self, sender):
        if self.down:
            raise RasaUnavailable("ConnectionError")
        self.sessions_started.append(sender)

    def replies_after(self, sender, message_key):
        if self.down:
            raise RasaUnavailable("ConnectionError")
        return self.answered.get((sender, message_key))

    def healthy(self):
        return not self.down
