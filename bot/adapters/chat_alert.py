"""A duty team's chat channel (a Microsoft Teams or Slack incoming webhook): staff only, never carers."""

from __future__ import annotations

from typing import Any, Protocol

from bot.adapters.http import HttpFailed, KeepAliveClient
from bot.adapters.mailer import AlertFailed


class ChatAlert(Protocol):
    def post(self, subject: str, text: str) -> None: ...


FORMATS = ("text", "teams")


def payload(subject: str, text: str, style: str) -> dict[str, Any]:
    """The JSON a chat tool's webhook takes: {"text": ...} (Slack and most others), or for Teams, whose
    Workflows webhooks (which replaced its Office 365 connectors) take a message with an Adaptive Card."""
    if style == "text":
        return {"text": f"{subject}\n{text}"}
    blocks = [{"type": "TextBlock", "text": subject, "weight": "Bolder", "size": "Medium", "wrap": True}]
    blocks += [{"type": "TextBlock", "text": line, "wrap": True} for line in text.splitlines() if line.strip()]
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": blocks}
    return {"type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]}


class WebhookChat:
    """POSTs an alert as JSON to an incoming-webhook URL, in the format its chat tool takes."""

    def __init__(self, url: str, style: str = "text", timeout: float = 15.0):
        if not url.startswith(("https://", "http://")):
            raise ValueError("DUTY_WEBHOOK_URL must be an http(s) address")
        if style not in FORMATS:
            raise ValueError("DUTY_WEBHOOK_FORMAT must be text (Slack and most tools) or teams")
        self.url = url  # holds the channel's secret: never logged, never stored with the message
        self.style = style
        self.http = KeepAliveClient(timeout=timeout)

    def post(self, subject: str, text: str) -> None:
        try:
            answer = self.http.request("POST", self.url, json=payload(subject, text, self.style))
        except HttpFailed as exc:
            # A timeout after sending may have posted it: the duty team may see it twice, never not at all.
            raise AlertFailed(f"chat webhook {exc}") from None
        if answer.status >= 300:
            # 429 and 5xx are "try later"; any other refusal (a removed webhook, a bad request) is for good.
            raise AlertFailed(f"chat webhook {answer.status}", retryable=answer.status == 429 or answer.status >= 500)
