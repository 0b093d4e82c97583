"""Routes of the duty console: HTTP in, one call into bot.duty.handoff or bot.duty.staff, a page out."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import (Response, abort, current_app, flash, g, jsonify, redirect, render_template, request, session,
                   url_for)
from sqlalchemy.exc import IntegrityError

from bot.duty import handoff as handoffs
from bot.duty import staff, worksheet
from bot.models import HandoffState, Urgency
from webhooks.console import bp
from webhooks.security import CONSOLE_HEADERS

OPEN_ENDPOINTS = {"console.login", "console.static"}


def _services() -> Any:
    return current_app.config["SERVICES"]


def _now():
    return _services().clock.now()


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


@bp.app_context_processor
def _template_helpers() -> dict:
    return {"csrf_token": csrf_token}


@bp.before_request
def _guard():
    """Refuse forged forms and strangers before any console code runs."""
    if request.method == "POST":
        sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
        expected = session.get("csrf") or ""
        if not expected or not hmac.compare_digest(sent, expected):
            abort(400, "missing or wrong CSRF token")
    g.worker = None
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    services = _services()
    with services.db.session() as db:
        worker = staff.signed_in(db, session.get("w"), session.get("v"))
        if worker is not None:
            db.expunge(worker)
    if worker is None or not worker.may("work_queue"):
        if request.path.endswith(".json"):
            return jsonify({"error": "sign in"}), 401
        return redirect(url_for("console.login"))
    g.worker = worker
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    for name, value in CONSOLE_HEADERS.items():
        response.headers[name] = value
    return response


# -- signing in ----------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("console/login.html")
    services = _services()
    with services.db.session() as db:
        worker = staff.authenticate(db, _now(), request.form.get("email", ""), request.form.get("password", ""))
        found = (worker.id, worker.session_version) if worker is not None else None
    if found is None:
        flash("That e-mail and password do not match, or the account is locked for a while.")
        return render_template("console/login.html"), 401
    session.clear()  # a fresh session on sign-in: nothing carried over from before
    session.permanent = True
    session["w"], session["v"] = found
    csrf_token()
    return redirect(url_for("console.queue"))


@bp.post("/logout")
def logout():
    with _services().db.session() as db:
        worker = db.get(staff.Worker, g.worker.id)
        staff.sign_out(db, _now(), worker)
    session.clear()
    return redirect(url_for("console.login"))


# -- the queue -----------------------------------------------------------------------------------


@bp.get("/")
def queue():
    services = _services()
    with services.db.session() as db:
        items = handoffs.queue(db, _now(), services.settings)
        staff.audit(db, _now(), g.worker, "view_queue")
    return render_template("console/queue.html", items=items, poll_seconds=services.settings.console_poll_seconds)


@bp.get("/queue.json")
def queue_json():
    services = _services()
    with services.db.session() as db:
        items = handoffs.queue(db, _now(), services.settings)
    urgent_open = sum(1 for i in items if i.urgency == Urgency.URGENT and i.state == HandoffState.OPEN)
    return jsonify({"items": [i.as_json() for i in items], "urgent_open": urgent_open})


# -- one handoff ---------------------------------------------------------------------------------


@bp.get("/handoffs/<int:handoff_id>")
def handoff(handoff_id: int):
    services = _services()
    with services.db.session() as db:
        case = handoffs.view(db, _now(), services.settings, handoff_id, g.worker)
        if case is None:
            abort(404)
        page = render_template("console/handoff.html", case=case, outcomes=handoffs.OUTCOMES,
                               may_act=_may_act(case.handoff), poll_seconds=services.settings.console_poll_seconds,
                               last_message_id=case.messages[-1].id if case.messages else 0)
    return page


@bp.get("/handoffs/<int:handoff_id>/messages.json")
def messages_json(handoff_id: int):
    try:
        after = int(request.args.get("after", "0"))
    except ValueError:
        after = 0
    with _services().db.session() as db:
        found = handoffs.messages_after(db, _now(), handoff_id, g.worker, after)
        rows = [{"id": m.id, "direction": m.direction, "kind": m.kind, "body": m.body or "",
                 "at": m.created_at.strftime("%d %b %H:%M")} for m in found]
    return jsonify({"messages": rows})


def _may_act(h) -> bool:
    return h.state == HandoffState.CLAIMED and (h.claimed_by == g.worker.id or g.worker.may("act_on_any_handoff"))


def _back(handoff_id: int):
    return redirect(url_for("console.handoff", handoff_id=handoff_id))


@bp.post("/handoffs/<int:handoff_id>/claim")
def claim(handoff_id: int):
    with _services().db.session() as db:
        won = handoffs.claim(db, _now(), handoff_id, db.get(staff.Worker, g.worker.id))
    if not won:
        flash("Someone else has already taken this handoff.")
    return _back(handoff_id)


def _act(handoff_id: int, action) -> Response:
    """Run one worker action; a refusal is shown on the handoff page, not as an error page."""
    services = _services()
    try:
        with services.db.session() as db:
            carer_id = action(db, db.get(staff.Worker, g.worker.id))
    except handoffs.HandoffError as exc:
        flash(str(exc))
        return _back(handoff_id)
    if carer_id is not None:
        services.outbox.send_for_carer(carer_id)
    return _back(handoff_id)


@bp.post("/handoffs/<int:handoff_id>/reply")
def reply(handoff_id: int):
    text = request.form.get("body", "")
    return _act(handoff_id, lambda db, w: handoffs.reply(db, _now(), handoff_id, w, text))


@bp.post("/handoffs/<int:handoff_id>/hand-back")
def hand_back(handoff_id: int):
    try:
        handoffs.hand_back(_services(), handoff_id, g.worker.id)
    except handoffs.HandoffError as exc:
        flash(str(exc))
    return _back(handoff_id)


@bp.post("/handoffs/<int:handoff_id>/close")
def close(handoff_id: int):
    outcome, note = request.form.get("outcome", ""), request.form.get("note", "")
    return _act(handoff_id, lambda db, w: handoffs.close(db, _now(), handoff_id, w, outcome, note))


@bp.post("/handoffs/<int:handoff_id>/decide")
def decide(handoff_id: int):
    decision = request.form.get("decision")
    if decision not in ("eligible", "not_eligible"):
        flash("Choose eligible or not eligible.")
        return _back(handoff_id)
    conditions: dict[str, object] = {f"condition_{n}": request.form.get(f"condition_{n}") == "met" for n in (1, 2, 3)}
    conditions["outcomes_unable"] = [t for t, _ in worksheet.OUTCOMES if request.form.get(f"outcome_{t}") == "unable"]
    catalogue = _services().catalogue
    return _act(handoff_id, lambda db, w: handoffs.decide(
        db, _now(), catalogue, handoff_id, w, eligible=decision == "eligible",
        reasons=request.form.get("reasons", ""), conditions=conditions))


# -- oversight -----------------------------------------------------------------------------------


@bp.get("/audit")
def audit():
    if not g.worker.may("read_audit"):
        abort(403)
    carer = request.args.get("carer", type=int)
    with _services().db.session() as db:
        entries = staff.read_audit(db, _now(), g.worker, carer_id=carer)
        page = render_template("console/audit.html", entries=entries, carer=carer)
    return page


@bp.route("/staff", methods=["GET", "POST"])
def staff_page():
    if not g.worker.may("manage_staff"):
        abort(403)
    with _services().db.session() as db:
        if request.method == "POST":
            try:
                with db.begin_nested():
                    created = staff.create_worker(db, _now(), email=request.form.get("email", ""),
                                                  password=request.form.get("password", ""),
                                                  role=request.form.get("role", ""),
                                                  display_name=request.form.get("display_name") or None)
                staff.audit(db, _now(), g.worker, "create_worker", detail=f"worker={created.id} role={created.role}")
                flash("Account created.")
            except ValueError as exc:
                flash(str(exc))
            except IntegrityError:
                flash("That e-mail already has an account.")
        page = render_template("console/staff.html", workers=staff.list_workers(db), roles=staff.ROLES)
    return page


# -- the assessment: printable summary and exports -----------------------------------------------


def _assessment(handoff_id: int, action: str):
    services = _services()
    with services.db.session() as db:
        record = handoffs.assessment_for(db, _now(), handoff_id, g.worker, action)
    if record is None:
        abort(404)
    return record


@bp.get("/handoffs/<int:handoff_id>/assessment")
def assessment_summary(handoff_id: int):
    """A printable summary of the carer's assessment: every question, answer, tag and change."""
    record = _assessment(handoff_id, "view_assessment")
    catalogue = _services().catalogue
    rows = [dict(a, question=catalogue.text(a["text_key"], record["language"])
                 if catalogue.has(a["text_key"]) else a["question_id"])
            for a in record["answers"]]
    return render_template("console/assessment.html", record=record, rows=rows, handoff_id=handoff_id)


@bp.get("/handoffs/<int:handoff_id>/assessment.json")
def assessment_json(handoff_id: int):
    from bot.duty.assessment.exports import to_json

    body = to_json(_assessment(handoff_id, "export_assessment_json"))
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename=assessment-{handoff_id}.json"})


@bp.get("/handoffs/<int:handoff_id>/assessment.fhir.json")
def assessment_fhir(handoff_id: int):
    """A FHIR Bundle: the Questionnaire and the carer's QuestionnaireResponse (validated on export)."""
    import json

    from bot.duty.assessment.exports import fhir_questionnaire, fhir_questionnaire_response

    record = _assessment(handoff_id, "export_assessment_fhir")
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": fhir_questionnaire()}, {"resource": fhir_questionnaire_response(record)}]}
    return Response(json.dumps(bundle, indent=2), mimetype="application/fhir+json",
                    headers={"Content-Disposition": f"attachment; filename=assessment-{handoff_id}.fhir.json"})
