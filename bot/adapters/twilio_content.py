"""Twilio's Content API (content.twilio.com/v1/Content), through twilio-python's own client."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Iterator, Protocol

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest.content.v1.content import ContentList

from bot.adapters.http import HttpFailed
from bot.adapters.twilio_sender import twilio_client


class ContentFailed(Exception):
    """Twilio refused the Content request or could not be reached."""

    def __init__(self, code: int | None, status: int | None, message: str = ""):
        super().__init__(f"{status} {code} {message}".strip())
        self.code = code
        self.status = status


class ContentApi(Protocol):
    def existing(self) -> dict[str, str]: ...
    def create(self, friendly_name: str, language: str, variables: dict[str, str],
               types: dict[str, Any]) -> str: ...


class TwilioContent:
    """Creates and lists Content; TWILIO_API_BASE_URL points it at the local stand-in, as for messages."""

    def __init__(self, account_sid: str, auth_token: str, api_base_url: str = "", timeout: float = 15.0):
        self.client = twilio_client(account_sid, auth_token, api_base_url, timeout, "content")

    def existing(self) -> dict[str, str]:
        """Every Content of the account, friendly name -> sid (the newest wins a shared name)."""
        with _refusals():
            return {c.friendly_name: c.sid for c in self.client.content.v1.contents.stream(page_size=1000)
                    if c.friendly_name}

    def create(self, friendly_name: str, language: str, variables: dict[str, str],
               types: dict[str, Any]) -> str:
        """Create one Content (types as Twilio names them, e.g. "twilio/quick-reply"); returns its HX sid."""
        request = ContentList.ContentCreateRequest({"friendly_name": friendly_name, "language": language,
                                                    "variables": variables, "types": types})
        with _refusals():
            sid: str = self.client.content.v1.contents.create(request).sid
        return sid


@contextmanager
def _refusals() -> Iterator[None]:
    """Twilio's refusals and network failures as ContentFailed, without the request's details."""
    try:
        yield
    except TwilioRestException as exc:
        raise ContentFailed(exc.code, exc.status, str(exc.msg)[:120]) from None
    except TwilioException as exc:  # a refused list page: twilio-python raises the base class with the response
        response = exc.args[1] if len(exc.args) > 1 else None
        try:
            code = json.loads(response.text).get("code") if response is not None else None
        except (AttributeError, ValueError):
            code = None
        raise ContentFailed(code, getattr(response, "status_code", None), "list page refused") from None
    except HttpFailed as exc:
        raise ContentFailed(None, None, str(exc)) from None
