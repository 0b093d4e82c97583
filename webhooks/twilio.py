"""Twilio's webhooks: incoming messages and delivery status callbacks, for SMS and WhatsApp alike."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from twilio.request_validator import RequestValidator

from bot.messaging import inbox, outbox

bp = Blueprint("twilio", __name__, url_prefix="/webhooks/twilio")
log = logging.getLogger("carertext.webhooks")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _twiml() -> Response:
    return Response(EMPTY_TWIML, status=200, content_type="text/xml")


def _signed(path: str) -> bool:
    """Check X-Twilio-Signature against the public URL, never the internal one behind a proxy."""
    settings = current_app.config["SETTINGS"]
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.twilio_auth_token:
        return False
    url = settings.public_base_url.rstrip("/") + path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    validator = RequestValidator(settings.twilio_auth_token)
    return validator.validate(url, request.form.to_dict(flat=True), signature)


def _refuse(reason: str, status: int = 403) -> Response:
    log.warning("webhook refused: %s", reason)
    return Response(reason + "\n", status=status, content_type="text/plain")


@bp.post("/messages")
def incoming_message():
    """Store the carer's message, answer Twilio at once; the reply goes out through the REST API."""
    if not _signed("/webhooks/twilio/messages"):
        return _refuse("invalid signature")
    settings = current_app.config["SETTINGS"]
    services = current_app.config["SERVICES"]
    incoming = inbox.IncomingMessage.from_twilio_form(request.form)
    if incoming.account_sid != settings.twilio_account_sid:
        return _refuse("wrong account")
    if not incoming.message_sid or not incoming.phone:
        return _refuse("missing MessageSid or From", 400)
    if not inbox.looks_like_sid(incoming.message_sid):
        return _refuse("malformed MessageSid", 400)
    stored = services.db.run(lambda session: inbox.store(session, services, incoming))
    if stored is None:
        log.info("duplicate inbound ignored")
    else:
        services.notify(stored.carer_id, stored.claim)
    return _twiml()


@bp.post("/status")
def status_callback():
    """Record a delivery status; a late or repeated callback never moves a status back."""
    if not _signed("/webhooks/twilio/status"):
        return _refuse("invalid signature")
    services = current_app.config["SERVICES"]
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").lower()
    if not sid or not status:
        return _refuse("missing MessageSid or MessageStatus", 400)
    if status not in outbox.TWILIO_STATUSES or not inbox.looks_like_sid(sid):
        return _refuse("unknown MessageStatus or malformed MessageSid", 400)
    account = request.form.get("AccountSid")
    if account and account != current_app.config["SETTINGS"].twilio_account_sid:
        return _refuse("wrong account")
    try:
        error_code = int(request.form.get("ErrorCode") or 0) or None
    except ValueError:
        error_code = None
    with services.db.session() as session:
        outbox.record_status(session, services.clock.now(), sid, status, error_code)
    return Response("", status=204)
