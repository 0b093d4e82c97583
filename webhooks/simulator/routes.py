"""Routes of the phone simulator page."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from flask import Response, abort, current_app, jsonify, render_template, request

from webhooks.simulator import bp, phone


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def _sent() -> tuple[threading.Lock, dict[str, list[dict[str, Any]]]]:
    """Return this app's record of what the simulated phones sent."""
    return current_app.extensions.setdefault("simulator", (threading.Lock(), {}))


@bp.before_request
def refuse_in_production() -> None:
    # It signs webhooks for any number: a production gateway must never offer it.
    if getattr(_settings(), "production", False):
        abort(404)


@bp.get("")
def page() -> str:
    return render_template("simulator/index.html")


@bp.post("/send")
def send() -> tuple[Response, int]:
    # JSON only, so a cross-site form cannot drive it.
    data = request.get_json(silent=True) if request.is_json else None
    if not isinstance(data, dict):
        return jsonify({"error": "send JSON"}), 415
    channel, number, body = data.get("channel", "sms"), str(data.get("phone", "")).strip(), data.get("body")
    tapped = data.get("tapped")  # a WhatsApp button or list item: {"kind", "id", "title"}
    if tapped is not None:
        if channel != "whatsapp" or not isinstance(tapped, dict) or tapped.get("kind") not in ("buttons", "list") \
                or not all(isinstance(tapped.get(k), str) and tapped[k] for k in ("id", "title")):
            return jsonify({"error": "tapped: WhatsApp only, {kind: buttons|list, id, title}"}), 400
        body = tapped["title"]
    if channel not in phone.CHANNELS or not phone.E164.match(number) or not isinstance(body, str):
        return jsonify({"error": "channel sms|whatsapp, phone +E.164, body text"}), 400
    settings = _settings()
    form = phone.incoming_form(settings, channel, number, body, str(data.get("profile_name", "")), tapped)
    lock, sent = _sent()
    with lock:
        sent.setdefault(form["From"], []).append(
            {"direction": "in", "body": body, "at": time.time(), "sid": form["MessageSid"], "status": "sending"}
        )
        entry = sent[form["From"]][-1]
    try:
        answer = phone.post_signed(settings.inbound_url, settings.twilio_auth_token, form)
        entry["status"] = "received" if answer.ok else f"rejected {answer.status_code}"
    except requests.RequestException as exc:
        entry["status"] = "gateway unreachable"
        current_app.logger.warning("simulator could not reach the webhook: %s", type(exc).__name__)
        return jsonify({"sid": form["MessageSid"], "error": "gateway unreachable"}), 502
    return jsonify({"sid": form["MessageSid"], "webhook_status": answer.status_code}), 200


@bp.route("/messages", methods=["GET", "POST"])
def messages() -> tuple[Response, int]:
    # The page POSTs JSON so numbers stay out of access logs; GET ?phone= also works.
    data = (request.get_json(silent=True) or {}) if request.method == "POST" else request.args
    channel, number = data.get("channel", "sms"), str(data.get("phone", "")).strip()
    if number.startswith("whatsapp:"):
        channel, number = "whatsapp", number.removeprefix("whatsapp:")
    if channel not in phone.CHANNELS or not phone.E164.match(number):
        return jsonify({"error": "channel sms|whatsapp, phone +E.164"}), 400
    to = phone.address(channel, number)
    lock, sent = _sent()
    with lock:
        conversation = [dict(m) for m in sent.get(to, [])]
    try:
        for reply in phone.replies(_settings().twilio_api_base_url, to):
            conversation.append({"direction": "out", "body": reply.get("body") or "", "at": reply["created_at"],
                                 "sid": reply["sid"], "status": reply.get("status", ""),
                                 **({"choices": reply["choices"]} if reply.get("choices") else {})})
    except requests.RequestException as exc:
        current_app.logger.warning("simulator could not read the stand-in: %s", type(exc).__name__)
        return jsonify({"messages": sorted(conversation, key=lambda m: m["at"]), "error": "stand-in unreachable"}), 200
    return jsonify({"messages": sorted(conversation, key=lambda m: m["at"])}), 200
