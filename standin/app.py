"""The stand-in for Twilio's Messages API (and Content API): validates against Twilio's spec and injects faults."""

from __future__ import annotations

import base64
import logging
import re
import secrets
import time
from dataclasses import asdict
from email.utils import formatdate
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request

from standin import callbacks, content, spec
from standin.errors import TwilioError, error_body
from bot.catalogue import segments
from standin.state import StandinState, Verdict

log = logging.getLogger("standin")

E164 = re.compile(r"^(whatsapp:)?\+[1-9][0-9]{6,14}$")
# From may also be a short code or an alphanumeric sender ID (1-11 chars, at least one letter).
SENDER = re.compile(r"^((whatsapp:)?\+[1-9][0-9]{6,14}|[0-9]{3,8}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11})$")
MESSAGE_PATH = "/2010-04-01/Accounts/<account_sid>/Messages/<sid>.json"
MESSAGES_PATH = "/2010-04-01/Accounts/<account_sid>/Messages.json"


def _bare(address: str) -> str:
    """Strip a channel prefix so faults can name a number either way."""
    return address.split(":", 1)[-1]


def _listed(address: str, numbers: list[str]) -> bool:
    return address in numbers or _bare(address) in {_bare(n) for n in numbers}


def _since(value: str | None) -> float | None:
    """A DateSent> filter (ISO 8601 or a bare date) as a Unix time; None when absent or unreadable."""
    if not value:
        return None
    from datetime import datetime, timezone

    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def _rfc2822(at: float) -> str:
    return formatdate(at, usegmt=False).replace("-0000", "+0000")


def create_standin(auth_token: str, account_sid: str, spec_path: str | Path | None = None,
                   content_spec_path: str | Path | None = None) -> Flask:
    """Build the stand-in app (Messages and Content APIs); its StandinState is app.config["STANDIN_STATE"]."""
    api = spec.load_spec(str(spec_path or spec.default_spec_path()))
    create_schema = spec.create_message_schema(api)
    sid_schema = spec.account_sid_schema(api)
    state = StandinState()
    app = Flask(__name__)
    app.config["STANDIN_STATE"] = state

    def authorised() -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return secrets.compare_digest(user, account_sid) and secrets.compare_digest(password, auth_token)

    def check_account(path_sid: str) -> None:
        if not authorised():
            raise TwilioError(20003, verdict="unauthorized")
        if spec.schema_errors(path_sid, sid_schema) or path_sid != account_sid:
            raise TwilioError(20404)

    def validate(doc: dict[str, Any]) -> None:
        """Apply the spec's schema, then the rules its text states."""
        if "To" not in doc or doc["To"] == "":
            raise TwilioError(21604)
        if errors := spec.schema_errors(doc, create_schema):
            raise TwilioError(70002, "; ".join(errors))
        if not E164.match(doc["To"]):
            raise TwilioError(21211)
        if not doc.get("From") and not doc.get("MessagingServiceSid"):
            raise TwilioError(21603)
        if doc.get("From") and not SENDER.match(doc["From"]):
            raise TwilioError(21212)
        if not (doc.get("Body") or doc.get("MediaUrl") or doc.get("ContentSid")):
            raise TwilioError(21619)
        if len(doc.get("Body", "")) > 1600:
            raise TwilioError(21617)

    def content_body(doc: dict[str, Any]) -> tuple[str, bool, dict[str, Any] | None]:
        """The body Twilio sends, whether it needs WhatsApp's open window (free text or a Content made here),
        and the buttons or list a phone shows with it."""
        sid = doc.get("ContentSid")
        if not sid:
            return doc.get("Body", ""), True, None
        with state.lock:
            made_here = state.contents.get(sid)
        if made_here is None:
            return "", False, None  # an approved template made elsewhere: the stand-in takes it on trust
        body = content.rendered_body(made_here, content.content_variables(doc.get("ContentVariables")))
        if doc["To"].startswith("whatsapp:") and (problems := content.whatsapp_session_problems(made_here)):
            raise TwilioError(70002, "; ".join(problems))
        # Made through the API, never approved: only inside the 24-hour window.
        return body, True, content.shown_choices(made_here)

    def build_message(doc: dict[str, Any], sid: str, body: str) -> dict[str, Any]:
        """Return a Message resource with every field the spec's schema lists."""
        now = _rfc2822(time.time())
        uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
        return {
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            # With only a Messaging Service, Twilio picks the sender later: from is null at create.
            "from": doc.get("From") or None,
            "messaging_service_sid": doc.get("MessagingServiceSid"),
            "num_media": str(len(doc.get("MediaUrl", []))),
            "num_segments": str(segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": doc["To"],
            "uri": f"{uri}.json",
        }

    @app.post(MESSAGES_PATH)
    def create_message(account_sid: str) -> tuple[Response, int]:
        form = request.form
        faults = state.faults
        entry = Verdict("POST", request.path, form.to_dict(flat=False), 201, "accepted")
        if faults.delay:
            time.sleep(faults.delay)
        try:
            check_account(account_sid)
            if state.take("rate_limit"):
                raise TwilioError(20429, verdict="fault")
            doc = spec.form_to_document(form, create_schema)
            validate(doc)
            body, needs_window, choices = content_body(doc)
            to = doc["To"]
            if _listed(to, faults.opted_out):
                raise TwilioError(21610, verdict="fault")
            window_closed = to.startswith("whatsapp:") and needs_window and _listed(to, faults.window_closed)
            if window_closed and faults.window_mode == "create":
                raise TwilioError(63016, verdict="fault")
            message = build_message(doc, "SM" + secrets.token_hex(16), body)
            failing = state.take("server_error")
            if failing and not faults.accepted_anyway:
                raise TwilioError(20500 if faults.server_error_status == 500 else 20503, verdict="fault")
            state.store(message, choices)
            if doc.get("StatusCallback"):
                callbacks.send_callbacks(state, auth_token, doc["StatusCallback"], message,
                                         63016 if window_closed else None)
            log.info("accepted %s (%s segments)", message["sid"], message["num_segments"])
            if failing:
                # Stored and on its way, yet the sender sees a 5xx: the ambiguous case.
                entry.verdict = "accepted-anyway"
                raise TwilioError(20500 if faults.server_error_status == 500 else 20503, verdict="accepted-anyway")
        except TwilioError as exc:
            body, status = error_body(exc.code, exc.detail)
            entry.status, entry.code, entry.verdict = status, exc.code, exc.verdict
            entry.errors = [exc.detail] if exc.detail else []
            state.record(entry)
            log.info("answered %s %s", status, exc.code)
            return jsonify(body), status
        state.record(entry)
        return jsonify(message), 201

    @app.get(MESSAGES_PATH)
    def list_account_messages(account_sid: str) -> tuple[Response, int]:
        """Twilio's message list, filtered by To and DateSent> (the outbox checks it after a 5xx)."""
        try:
            check_account(account_sid)
        except TwilioError as exc:
            body, status = error_body(exc.code)
            state.record(Verdict("GET", request.path, {}, status, exc.verdict, exc.code))
            return jsonify(body), status
        since = _since(request.args.get("DateSent>") or request.args.get("DateSent&gt;"))
        found = [
            {k: v for k, v in m.items() if k != "created_at"}
            for m in state.list_messages(request.args.get("To"))
            if since is None or m["created_at"] >= since
        ]
        found.reverse()  # Twilio lists newest first
        size = request.args.get("PageSize", 50, type=int)
        uri = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        state.record(Verdict("GET", request.path, {}, 200, "read"))
        return jsonify({"messages": found[:size], "end": min(len(found), size) - 1, "first_page_uri": uri,
                        "next_page_uri": None, "page": 0, "page_size": size, "previous_page_uri": None,
                        "start": 0, "uri": uri}), 200

    @app.get(MESSAGE_PATH)
    def fetch_message(account_sid: str, sid: str) -> tuple[Response, int]:
        try:
            check_account(account_sid)
            with state.lock:
                message = state.messages.get(sid)
            if message is None:
                raise TwilioError(20404)
        except TwilioError as exc:
            body, status = error_body(exc.code)
            state.record(Verdict("GET", request.path, {}, status, exc.verdict, exc.code))
            return jsonify(body), status
        state.record(Verdict("GET", request.path, {}, 200, "read"))
        return jsonify(message), 200

    @app.get("/_standin/messages")
    def list_messages() -> Response:
        return jsonify(state.list_messages(request.args.get("to")))

    @app.get("/_standin/requests")
    def list_requests() -> Response:
        with state.lock:
            return jsonify([asdict(r) for r in state.requests])

    @app.get("/_standin/callbacks")
    def list_callbacks() -> Response:
        with state.lock:
            return jsonify(list(state.callbacks))

    @app.post("/_standin/reset")
    def reset() -> Response:
        state.reset()
        return jsonify({"ok": True})

    @app.get("/_standin/faults")
    def get_faults() -> Response:
        return jsonify(asdict(state.faults))

    @app.post("/_standin/faults")
    def set_faults() -> tuple[Response, int]:
        try:
            faults = state.set_faults(**(request.get_json(force=True) or {}))
        except TypeError as exc:
            return jsonify({"error": str(exc)}), 400
        return jsonify(asdict(faults)), 200

    @app.get("/_standin/wait")
    def wait() -> tuple[Response, int]:
        count = request.args.get("count", 1, type=int)
        timeout = min(request.args.get("timeout", 10.0, type=float), 120.0)
        found = state.wait(count, timeout, request.args.get("to"))
        if found is None:
            return jsonify({"error": "timeout", "messages": state.list_messages(request.args.get("to"))}), 408
        return jsonify(found), 200

    content.install(app, state, account_sid, authorised, str(content_spec_path or spec.default_content_spec_path()))
    return app
