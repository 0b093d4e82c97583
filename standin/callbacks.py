"""Send signed status callbacks the way Twilio does, from a background thread."""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any

import requests
from twilio.request_validator import RequestValidator

from standin.state import StandinState

log = logging.getLogger("standin")


def status_sequence(message: dict[str, Any], error_code: int | None) -> list[str]:
    """Return the statuses a message goes through after create."""
    if error_code is not None:
        return ["queued", "failed"]
    statuses = ["queued", "sent", "delivered"]
    if (message["to"] or "").startswith("whatsapp:"):
        statuses.append("read")
    return statuses


def callback_params(message: dict[str, Any], status: str, error_code: int | None) -> dict[str, str]:
    """Build the form Twilio posts to a status callback URL."""
    params = {
        "MessageSid": message["sid"],
        "SmsSid": message["sid"],
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": message["account_sid"],
        "From": message["from"] or "",
        "To": message["to"] or "",
        "ApiVersion": "2010-04-01",
    }
    if message.get("messaging_service_sid"):
        params["MessagingServiceSid"] = message["messaging_service_sid"]
    if status in {"failed", "undelivered"} and error_code is not None:
        params["ErrorCode"] = str(error_code)
    return params


def send_callbacks(
    state: StandinState,
    auth_token: str,
    url: str,
    message: dict[str, Any],
    error_code: int | None = None,
) -> threading.Thread | None:
    """Start a daemon thread that posts the message's status callbacks; None when callbacks are off."""
    faults = state.faults
    if faults.callbacks == "off":
        return None
    statuses = status_sequence(message, error_code)
    if faults.callbacks == "chaos":
        # Real callbacks arrive duplicated and out of order; receivers must not move a status backwards.
        statuses = statuses + statuses
        random.shuffle(statuses)
    validator = RequestValidator(auth_token)
    order = status_sequence(message, error_code)

    def run() -> None:
        reached = 0
        for status in statuses:
            time.sleep(faults.callback_interval)
            params = callback_params(message, status, error_code)
            headers = {"X-Twilio-Signature": validator.compute_signature(url, params)}
            # The stored message keeps the true, furthest status even when callbacks go out of order.
            if order.index(status) >= reached:
                reached = order.index(status)
                state.update(message["sid"], status=status, error_code=error_code if status == "failed" else None)
            try:
                answer = requests.post(url, data=params, headers=headers, timeout=15).status_code
            except requests.RequestException as exc:
                answer = None
                log.warning("status callback for %s failed: %s", message["sid"], type(exc).__name__)
            with state.lock:
                state.callbacks.append(
                    {"sid": message["sid"], "url": url, "status": status, "answer": answer, "at": time.time()}
                )
                state.lock.notify_all()

    thread = threading.Thread(target=run, name=f"standin-callbacks-{message['sid']}", daemon=True)
    thread.start()
    return thread
