"""What the stand-in remembers: messages, requests, callbacks and the faults to inject."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Faults:
    """Faults to inject into the next sends; set over HTTP or from Python."""

    rate_limit: int = 0  # next N sends answer 429 / 20429
    server_error: int = 0  # next N sends answer a 5xx
    server_error_status: int = 500  # 500 or 503
    # The ambiguous case: the message is stored (and will be delivered) but the sender sees a 5xx.
    accepted_anyway: bool = False
    opted_out: list[str] = field(default_factory=list)  # 21610
    window_closed: list[str] = field(default_factory=list)  # 63016 for free-form WhatsApp
    # "create": reject at create time; "callback": accept, then a failed callback with 63016 (as Twilio does).
    window_mode: str = "callback"
    delay: float = 0.0  # seconds before answering a send
    callbacks: str = "ordered"  # "ordered", "chaos" (duplicated, shuffled) or "off"
    callback_interval: float = 0.02  # seconds between callbacks of one message


@dataclass
class Verdict:
    """One request the stand-in received, and what it answered."""

    method: str
    path: str
    form: dict[str, list[str]]
    status: int
    verdict: str  # accepted, rejected, fault, unauthorized, read
    code: int | None = None
    errors: list[str] = field(default_factory=list)
    at: float = field(default_factory=time.time)


class StandinState:
    """Thread-safe store shared by the request handlers and the callback threads."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.faults = Faults()
        self.messages: dict[str, dict[str, Any]] = {}
        # Content API resources (HX...) created here, in creation order.
        self.contents: dict[str, dict[str, Any]] = {}
        self.created_at: dict[str, float] = {}
        # What a phone shows under a message sent with an interactive Content: its buttons or list (not in
        # Twilio's Message resource; only the stand-in's own listing carries it, for the phone simulator).
        self.choices: dict[str, dict[str, Any]] = {}
        self.requests: list[Verdict] = []
        self.callbacks: list[dict[str, Any]] = []

    def reset(self) -> None:
        """Forget everything, faults included."""
        with self.lock:
            self.faults = Faults()
            self.messages.clear()
            self.contents.clear()
            self.created_at.clear()
            self.choices.clear()
            self.requests.clear()
            self.callbacks.clear()
            self.lock.notify_all()

    def set_faults(self, **changes: Any) -> Faults:
        """Change some faults, keeping the others; unknown names raise TypeError."""
        with self.lock:
            self.faults = Faults(**{**asdict(self.faults), **changes})
            return self.faults

    def take(self, name: str) -> bool:
        """Consume one count of a counted fault; return True if it fires."""
        with self.lock:
            left = getattr(self.faults, name)
            if left > 0:
                setattr(self.faults, name, left - 1)
                return True
            return False

    def record(self, verdict: Verdict) -> None:
        """Keep one request and its verdict."""
        with self.lock:
            self.requests.append(verdict)

    def store(self, message: dict[str, Any], choices: dict[str, Any] | None = None) -> None:
        """Keep one accepted message (and the choices a phone shows with it) and wake waiters."""
        with self.lock:
            self.messages[message["sid"]] = message
            self.created_at[message["sid"]] = time.time()
            if choices:
                self.choices[message["sid"]] = choices
            self.lock.notify_all()

    def update(self, sid: str, **fields: Any) -> None:
        """Change a stored message (its status as callbacks go out)."""
        with self.lock:
            if sid in self.messages:
                self.messages[sid] = {**self.messages[sid], **fields}

    def list_messages(self, to: str | None = None) -> list[dict[str, Any]]:
        """Return accepted messages in arrival order, optionally for one recipient."""
        with self.lock:
            found = []
            for sid, m in self.messages.items():
                if to is None or m["to"] == to:
                    found.append({**m, "created_at": self.created_at[sid]})
                    if sid in self.choices:
                        found[-1]["choices"] = self.choices[sid]
            return found

    def wait(self, count: int, timeout: float, to: str | None = None) -> list[dict[str, Any]] | None:
        """Block until at least count messages exist; return them, or None on timeout."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(found := self.list_messages(to)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.lock.wait(left)
            return found
