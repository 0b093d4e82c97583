"""Twilio's Messages API, through twilio-python's own client."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

from twilio.base.exceptions import TwilioRestException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.adapters.http import HttpFailed, KeepAliveClient


@dataclass(frozen=True)
class Outgoing:
    """One message to hand to Twilio."""

    to: str
    from_: str
    body: str | None = None
    content_sid: str | None = None
    content_variables: dict[str, str] | None = None
    messaging_service_sid: str | None = None


@dataclass(frozen=True)
class Sent:
    sid: str
    status: str
    num_segments: int | None


class SendFailed(Exception):
    """Twilio refused or could not be reached."""

    def __init__(self, code: int | None, status: int | None, message: str = ""):
        super().__init__(f"{status} {code} {message}".strip())
        self.code = code
        self.status = status

    @property
    def retryable(self) -> bool:
        """429 is always safe to retry; 5xx and no answer are ambiguous but worth retrying."""
        return self.status is None or self.status == 429 or self.status >= 500 or self.code == 20429

    @property
    def ambiguous(self) -> bool:
        """Twilio may have accepted the message although the call failed."""
        return self.status is None or self.status >= 500


class SentBefore(TypedDict):
    """A message Twilio already holds, as recent_to lists it."""

    sid: str
    body: str | None
    status: str


class MessageSender(Protocol):
    def send(self, outgoing: Outgoing, status_callback: str) -> Sent: ...
    def recent_to(self, to: str, since_iso: str) -> list[SentBefore]: ...


class KeptAliveHttp(HttpClient):  # type: ignore[misc]  # twilio-python ships no type information
    """twilio-python's transport interface on bot.adapters.http: the same requests, a fifth of the cost."""

    def __init__(self, timeout: float):
        super().__init__(logging.getLogger("twilio.http_client"), False, timeout)
        self.transport = KeepAliveClient(timeout)

    def request(self, method: str, url: str, params: dict[str, Any] | None = None,
                data: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> Response:
        as_json = (headers or {}).get("Content-Type") in ("application/json", "application/scim+json")
        answer = self.transport.request(method.upper(), url, params=params, headers=headers, auth=auth,
                                        json=data if as_json else None, data=None if as_json else data,
                                        timeout=timeout or self.timeout)
        self._test_only_last_response = Response(answer.status, answer.text, answer.headers)
        return self._test_only_last_response


def twilio_client(account_sid: str, auth_token: str, api_base_url: str, timeout: float, domain: str) -> Client:
    """A twilio-python client; api_base_url (TWILIO_API_BASE_URL) points `domain` at a local stand-in."""
    # Built when it is needed, never at import time, so tests can choose the URL.
    client = Client(account_sid, auth_token, http_client=KeptAliveHttp(timeout))
    if api_base_url:
        getattr(client, domain).base_url = api_base_url.rstrip("/")
    return client


class TwilioSender:
    """Sends with `messages.create`; TWILIO_API_BASE_URL points it at a local stand-in."""

    def __init__(self, account_sid: str, auth_token: str, api_base_url: str = "", timeout: float = 15.0):
        self.client = twilio_client(account_sid, auth_token, api_base_url, timeout, "api")

    def send(self, outgoing: Outgoing, status_callback: str) -> Sent:
        kwargs: dict[str, str | None] = {"to": outgoing.to, "status_callback": status_callback}
        if outgoing.messaging_service_sid:
            kwargs["messaging_service_sid"] = outgoing.messaging_service_sid
        else:
            kwargs["from_"] = outgoing.from_
        if outgoing.content_sid:
            kwargs["content_sid"] = outgoing.content_sid
            kwargs["content_variables"] = json.dumps(outgoing.content_variables or {})
        else:
            kwargs["body"] = outgoing.body
        try:
            message = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            raise SendFailed(exc.code, exc.status, str(exc.msg)[:120]) from None
        except HttpFailed as exc:
            raise SendFailed(None, None, str(exc)) from None
        segments = int(message.num_segments) if message.num_segments not in (None, "") else None
        return Sent(message.sid, message.status or "queued", segments)

    def recent_to(self, to: str, since_iso: str) -> list[SentBefore]:
        """Messages Twilio holds to `to` since a moment: to check an ambiguous send before resending."""
        from datetime import datetime

        since = datetime.fromisoformat(since_iso)
        try:
            found = self.client.messages.list(to=to, date_sent_after=since, limit=50)
        except TwilioRestException as exc:
            raise SendFailed(exc.code, exc.status, str(exc.msg)[:120]) from None
        except HttpFailed as exc:
            raise SendFailed(None, None, str(exc)) from None
        return [{"sid": m.sid, "body": m.body, "status": m.status} for m in found]
