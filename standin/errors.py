"""Twilio's error shape and the codes the stand-in answers with."""

from __future__ import annotations

from typing import Any

# Codes and statuses per https://www.twilio.com/docs/api/errors; 70002 is our pick for a generic
# "does not match the API's expected schema", the others are Twilio's own for that rule.
ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "Invalid 'To' Phone Number"),
    21212: (400, "Invalid 'From' Phone Number"),
    21603: (400, "A 'From' phone number or 'MessagingServiceSid' is required."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    21619: (400, "A text message Body, MediaUrl or ContentSid must be specified."),
    21656: (400, "The ContentVariables Parameter is invalid."),
    63016: (
        400,
        "Failed to send freeform message because you are outside the allowed window. "
        "If you are using WhatsApp, please use a Message Template.",
    ),
    70002: (400, "Bad request: the parameters do not match the API's schema."),
}


class TwilioError(Exception):
    """A request Twilio would refuse, carrying Twilio's error code."""

    def __init__(self, code: int, detail: str = "", verdict: str = "rejected") -> None:
        super().__init__(code)
        self.code, self.detail, self.verdict = code, detail, verdict


def error_body(code: int, detail: str = "") -> tuple[dict[str, Any], int]:
    """Return Twilio's error shape and HTTP status for a code."""
    status, message = ERRORS[code]
    if detail:
        message = f"{message} ({detail})"
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}, status
