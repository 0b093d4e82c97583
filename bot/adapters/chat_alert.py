"""A duty team's chat channel (a Microsoft Teams or Slack incoming webhook): staff only, never carers."""

from __future__ import annotations

from typing import Protocol

from bot.adapters.http import HttpFailed, KeepAliveClient
from bot.adapters.mailer import AlertFailed


class ChatAlert(Protocol):
    def post(self, text: str) -> None: ...


class WebhookChat:
    """POSTs {"text": ...} as JSON to an incoming-webhook URL, which Slack, Teams and most chat tools take."""

    def __init__(self, url: str, timeout: float = 15.0):
        if not url.startswith(("https://", "http://")):
            raise ValueError("DUTY_WEBHOOK_URL must be an http(s) address")
        self.url = url  # holds the channel's secret: never logged, never stored with the message
        self.http = KeepAliveClient(timeout=timeout)

    def post(self, text: str) -> None:
        try:
            answer = self.http.request("POST", self.url, json={"text": text})
        except HttpFailed as exc:
            # A timeout after sending may have posted it: the duty team may see it twice, never not at all.
            raise AlertFailed(f"chat webhook {exc}") from None
        if answer.status >= 300:
            # 429 and 5xx are "try later"; any other refusal (a removed webhook, a bad request) is for good.
            raise AlertFailed(f"chat webhook {answer.status}", retryable=answer.status == 429 or answer.status >= 500)
