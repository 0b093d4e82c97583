"""The stand-in for Twilio's Content API: create, list and fetch Content, checked against Twilio's spec.

What the spec's schema cannot say comes from Twilio's documentation of each content type (the limits below),
and the sends that use a Content are checked here too: valid ContentVariables (error 21656), the body Twilio
renders from the Content, and the WhatsApp limits of an in-session message.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any, Callable

from flask import Flask, Response, jsonify, request

from standin import spec
from standin.errors import TwilioError, error_body
from standin.state import StandinState, Verdict

CONTENTS_PATH = "/v1/Content"
CONTENT_PATH = "/v1/Content/<sid>"
HX = re.compile(r"^HX[0-9a-fA-F]{32}$")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
# twilio.com/docs/content/twilio-quick-reply, /twiliolist-picker, /using-variables-with-content-api
BODY_MAX = 1024
ACTIONS_MAX = 10
LIST_ITEMS_MAX = 10
LIST_ITEM_MAX = 24
LIST_ID_MAX = 200
LIST_DESCRIPTION_MAX = 72
VARIABLES_MAX = 100
VARIABLE_KEY_MAX = 16
# WhatsApp, in a session without approval: three quick-reply buttons, titles of 20 characters at most.
WHATSAPP_SESSION_BUTTONS = 3
WHATSAPP_BUTTON_TITLE_MAX = 20
INTERACTIVE = ("twilio/quick-reply", "twilio/list-picker")


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def content_rules(doc: dict[str, Any]) -> list[str]:
    """The limits Twilio's documentation states for the content types the schema leaves open."""
    problems: list[str] = []
    variables = doc.get("variables") or {}
    if len(variables) > VARIABLES_MAX:
        problems.append(f"variables: more than {VARIABLES_MAX}")
    problems += [f"variables/{k}: key longer than {VARIABLE_KEY_MAX}" for k in variables if len(k) > VARIABLE_KEY_MAX]
    types = {name: body for name, body in (doc.get("types") or {}).items() if body is not None}
    if not types:
        problems.append("types: no content type given")
    quick = types.get("twilio/quick-reply")
    if quick is not None:
        if len(quick["body"]) > BODY_MAX:
            problems.append(f"twilio/quick-reply/body: longer than {BODY_MAX}")
        if not 1 <= len(quick["actions"]) <= ACTIONS_MAX:
            problems.append(f"twilio/quick-reply/actions: 1 to {ACTIONS_MAX} buttons")
    picker = types.get("twilio/list-picker")
    if picker is not None:
        if len(picker["body"]) > BODY_MAX:
            problems.append(f"twilio/list-picker/body: longer than {BODY_MAX}")
        if not picker["button"]:
            problems.append("twilio/list-picker/button: empty")
        if not 1 <= len(picker["items"]) <= LIST_ITEMS_MAX:
            problems.append(f"twilio/list-picker/items: 1 to {LIST_ITEMS_MAX} items")
        for i, item in enumerate(picker["items"]):
            if len(item["item"]) > LIST_ITEM_MAX:
                problems.append(f"twilio/list-picker/items/{i}/item: longer than {LIST_ITEM_MAX}")
            if len(item["id"]) > LIST_ID_MAX:
                problems.append(f"twilio/list-picker/items/{i}/id: longer than {LIST_ID_MAX}")
            if not item.get("description") or len(item["description"]) > LIST_DESCRIPTION_MAX:
                problems.append(f"twilio/list-picker/items/{i}/description: 1 to {LIST_DESCRIPTION_MAX} characters")
    return problems


def content_variables(raw: str | None) -> dict[str, str]:
    """ContentVariables as Twilio reads them: a JSON object of non-empty strings, else error 21656."""
    if raw is None:
        return {}
    try:
        values = json.loads(raw)
    except ValueError:
        raise TwilioError(21656, "not JSON") from None
    if not isinstance(values, dict):
        raise TwilioError(21656, "not a JSON object")
    for key, value in values.items():
        if not isinstance(value, str) or value == "":
            raise TwilioError(21656, f"{key}: null or empty")
        if len(key) > VARIABLE_KEY_MAX:
            raise TwilioError(21656, f"{key}: key too long")
    return values


def rendered_body(content: dict[str, Any], variables: dict[str, str]) -> str:
    """The text Twilio sends from a Content: its body with each {{variable}} filled, defaults for the rest."""
    values = {**(content.get("variables") or {}), **variables}
    types = content["types"]
    kind = next((t for t in (*INTERACTIVE, "twilio/text") if t in types), None)
    body = types[kind]["body"] if kind else ""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def shown_choices(content: dict[str, Any]) -> dict[str, Any] | None:
    """What a phone shows under the body: {"kind": "buttons"|"list", "button": ..., "items": [{"id", "title"}]}."""
    types = content["types"]
    if quick := types.get("twilio/quick-reply"):
        return {"kind": "buttons", "items": [{"id": a["id"], "title": a["title"]} for a in quick["actions"]]}
    if picker := types.get("twilio/list-picker"):
        return {"kind": "list", "button": picker["button"],
                "items": [{"id": i["id"], "title": i["item"]} for i in picker["items"]]}
    return None


def whatsapp_session_problems(content: dict[str, Any]) -> list[str]:
    """Why WhatsApp would refuse this Content in a session (it has no approval in the stand-in)."""
    quick = content["types"].get("twilio/quick-reply")
    if quick is None:
        return []
    problems = []
    if len(quick["actions"]) > WHATSAPP_SESSION_BUTTONS:
        problems.append(f"WhatsApp allows {WHATSAPP_SESSION_BUTTONS} quick-reply buttons in a session")
    problems += [f"WhatsApp button title longer than {WHATSAPP_BUTTON_TITLE_MAX}: {a['title']!r}"
                 for a in quick["actions"] if len(a["title"]) > WHATSAPP_BUTTON_TITLE_MAX]
    return problems


def install(app: Flask, state: StandinState, account_sid: str, authorised: Callable[[], bool],
            spec_path: str) -> None:
    """Serve the Content API's create, list and fetch on the stand-in app."""
    api = spec.load_spec(spec_path)
    create_schema = spec.create_content_schema(api)

    def answer_error(exc: TwilioError, method: str, form: dict) -> tuple[Response, int]:
        body, status = error_body(exc.code, exc.detail)
        state.record(Verdict(method, request.path, form, status, exc.verdict, exc.code,
                             [exc.detail] if exc.detail else []))
        return jsonify(body), status

    @app.post(CONTENTS_PATH)
    def create_content() -> tuple[Response, int]:
        doc = request.get_json(silent=True)
        form = {"json": [json.dumps(doc)]}
        try:
            if not authorised():
                raise TwilioError(20003, verdict="unauthorized")
            if not isinstance(doc, dict):
                raise TwilioError(70002, "the body is not a JSON object")
            if errors := spec.schema_errors(doc, create_schema) or content_rules(doc):
                raise TwilioError(70002, "; ".join(errors))
        except TwilioError as exc:
            return answer_error(exc, "POST", form)
        now = time.time()
        sid = "HX" + secrets.token_hex(16)
        url = f"{request.host_url.rstrip('/')}{CONTENTS_PATH}/{sid}"
        content = {
            "account_sid": account_sid,
            "date_created": _iso(now),
            "date_updated": _iso(now),
            "friendly_name": doc.get("friendly_name") or "",
            "language": doc["language"],
            "links": {"approval_create": f"{url}/ApprovalRequests/whatsapp",
                      "approval_fetch": f"{url}/ApprovalRequests"},
            "sid": sid,
            # twilio-python sends every type, the unused ones as null: Twilio keeps the ones given.
            "types": {name: body for name, body in doc["types"].items() if body is not None},
            "url": url,
            "variables": doc.get("variables") or {},
        }
        with state.lock:
            state.contents[sid] = content
        state.record(Verdict("POST", request.path, form, 201, "accepted"))
        return jsonify(content), 201

    @app.get(CONTENTS_PATH)
    def list_contents() -> tuple[Response, int]:
        """Twilio's paged list, oldest first; PageToken carries the offset of the next page."""
        if not authorised():
            return answer_error(TwilioError(20003, verdict="unauthorized"), "GET", {})
        size = min(max(request.args.get("PageSize", 50, type=int), 1), 1000)
        token = request.args.get("PageToken", "")
        start = int(token[2:]) if token.startswith("PT") and token[2:].isdigit() else 0
        page = request.args.get("Page", 0, type=int)
        with state.lock:
            found = list(state.contents.values())
        base = request.host_url.rstrip("/") + CONTENTS_PATH
        more = start + size < len(found)
        meta = {
            "first_page_url": f"{base}?PageSize={size}&Page=0",
            "key": "contents",
            "next_page_url": f"{base}?PageSize={size}&Page={page + 1}&PageToken=PT{start + size}" if more else None,
            "page": page,
            "page_size": size,
            "previous_page_url": (None if page == 0 else
                                  f"{base}?PageSize={size}&Page={page - 1}&PageToken=PT{max(start - size, 0)}"),
            "url": f"{base}?PageSize={size}&Page={page}",
        }
        state.record(Verdict("GET", request.path, {}, 200, "read"))
        return jsonify({"contents": found[start:start + size], "meta": meta}), 200

    @app.get(CONTENT_PATH)
    def fetch_content(sid: str) -> tuple[Response, int]:
        try:
            if not authorised():
                raise TwilioError(20003, verdict="unauthorized")
            with state.lock:
                content = state.contents.get(sid) if HX.match(sid) else None
            if content is None:
                raise TwilioError(20404)
        except TwilioError as exc:
            return answer_error(exc, "GET", {})
        state.record(Verdict("GET", request.path, {}, 200, "read"))
        return jsonify(content), 200
