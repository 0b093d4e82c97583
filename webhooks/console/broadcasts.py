"""Broadcast screens (admin): write, choose the audience, see reach and cost, send or schedule, cancel, stop, report."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for

from bot.council import broadcasts
from bot.duty import staff
from webhooks.console import bp
from webhooks.console.routes import _now, _services


def _admin_only() -> None:
    if g.worker.role != staff.ADMIN:
        abort(403)


def _options() -> dict:
    return {"statuses": broadcasts.ASSESSMENT_STATUSES, "channels": broadcasts.CHANNELS,
            "languages": _services().catalogue.languages}


@bp.route("/broadcasts", methods=["GET", "POST"])
def broadcasts_page():
    _admin_only()
    services = _services()
    with services.db.session() as db:
        if request.method == "POST":
            try:
                made = broadcasts.create(db, _now(), message=request.form.get("message", ""),
                                         audience={k: request.form.get(k, "") for k in broadcasts.AUDIENCE_KEYS},
                                         created_by=g.worker.id)
            except broadcasts.BroadcastError as exc:
                flash(str(exc))
                return redirect(url_for("console.broadcasts_page"))
            staff.audit(db, _now(), g.worker, "broadcast_create", detail=f"broadcast={made.id}")
            return redirect(url_for("console.broadcast_page", broadcast_id=made.id))
        page = render_template("console/broadcasts.html", items=broadcasts.listing(db), **_options())
    return page


@bp.get("/broadcasts/<int:broadcast_id>")
def broadcast_page(broadcast_id: int):
    _admin_only()
    services = _services()
    with services.db.session() as db:
        item = db.get(broadcasts.Broadcast, broadcast_id)
        if item is None:
            abort(404)
        reach = broadcasts.preview(db, services.settings, _now(), item.message, item.audience or {})
        page = render_template("console/broadcast.html", item=item, reach=reach, report=broadcasts.report(db, item.id),
                               rate=services.settings.send_rate_per_second, timezone=services.settings.timezone)
    return page


@bp.get("/broadcasts/<int:broadcast_id>.json")
def broadcast_json(broadcast_id: int):
    _admin_only()
    with _services().db.session() as db:
        found = broadcasts.report(db, broadcast_id)
    if found is None:
        abort(404)
    return jsonify(found.as_json())


def _act(broadcast_id: int, action, audit_action: str):
    try:
        with _services().db.session() as db:
            action(db)
            staff.audit(db, _now(), g.worker, audit_action, detail=f"broadcast={broadcast_id}")
    except broadcasts.BroadcastError as exc:
        flash(str(exc))
    return redirect(url_for("console.broadcast_page", broadcast_id=broadcast_id))


@bp.post("/broadcasts/<int:broadcast_id>/send")
def broadcast_send(broadcast_id: int):
    _admin_only()
    at = None
    if request.form.get("when") == "later":
        try:
            at = datetime.fromisoformat(request.form.get("at", "")).replace(
                tzinfo=ZoneInfo(_services().settings.timezone))
        except ValueError:
            flash("Choose a date and time to send it.")
            return redirect(url_for("console.broadcast_page", broadcast_id=broadcast_id))
    return _act(broadcast_id, lambda db: broadcasts.schedule(db, _now(), broadcast_id, at), "broadcast_schedule")


@bp.post("/broadcasts/<int:broadcast_id>/cancel")
def broadcast_cancel(broadcast_id: int):
    _admin_only()
    return _act(broadcast_id, lambda db: broadcasts.cancel(db, _now(), broadcast_id), "broadcast_cancel")


@bp.post("/broadcasts/<int:broadcast_id>/stop")
def broadcast_stop(broadcast_id: int):
    _admin_only()
    return _act(broadcast_id, lambda db: broadcasts.stop(db, _now(), broadcast_id), "broadcast_stop")
