"""Build and sign the form Twilio posts for an incoming message; read replies from the stand-in."""

from __future__ import annotations

import re
import secrets
from typing import Any

import requests
from twilio.request_validator import RequestValidator

from bot.catalogue import segments

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
CHANNELS = ("sms", "whatsapp")


def address(channel: str, phone: str) -> str:
    """Return the carer's Twilio address: whatsapp:+44... or +44..."""
    return f"whatsapp:{phone}" if channel == "whatsapp" else phone


def incoming_form(settings: Any, channel: str, phone: str, body: str, profile_name: str = "",
                  tapped: dict[str, str] | None = None) -> dict[str, str]:
    """Return Twilio's incoming-message form for one text from the carer, or one tap on a button or list item.

    tapped: {"kind": "buttons" or "list", "id": ..., "title": ...}; Twilio sends the title as the Body too."""
    sid = "SM" + secrets.token_hex(16)
    form = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": settings.twilio_account_sid,
        "From": address(channel, phone),
        "To": settings.twilio_whatsapp_from if channel == "whatsapp" else settings.twilio_sms_from,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": str(segments(body)),
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    if getattr(settings, "twilio_messaging_service_sid", ""):
        form["MessagingServiceSid"] = settings.twilio_messaging_service_sid
    if channel == "whatsapp":
        form |= {"ProfileName": profile_name or "Simulator", "WaId": phone.lstrip("+"), "MessageType": "text"}
        if tapped and tapped.get("kind") == "list":
            form |= {"ListId": tapped["id"], "ListTitle": tapped["title"], "MessageType": "interactive"}
        elif tapped:
            form |= {"ButtonPayload": tapped["id"], "ButtonText": tapped["title"], "MessageType": "button"}
    return form


def post_signed(url: str, auth_token: str, form: dict[str, str], timeout: float = 15.0) -> requests.Response:
    """POST the form to the webhook URL with X-Twilio-Signature, as Twilio does (it waits 15 s)."""
    signature = RequestValidator(auth_token).compute_signature(url, form)
    return requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=timeout)


def replies(api_base_url: str, to: str, timeout: float = 3.0) -> list[dict[str, Any]]:
    """Return messages the stand-in accepted for this address; empty without a stand-in."""
    if not api_base_url:
        return []
    answer = requests.get(f"{api_base_url.rstrip('/')}/_standin/messages", params={"to": to}, timeout=timeout)
    answer.raise_for_status()
    return answer.json()
