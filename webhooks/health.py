"""GET /healthz: the gateway, the database and the Rasa server."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    services = current_app.config["SERVICES"]
    try:
        with services.db.session() as session:
            session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:
        database = "down"
    rasa = "ok" if services.rasa.healthy() else "down"
    body = {"gateway": "ok", "database": database, "rasa": rasa}
    return jsonify(body), 200 if database == "ok" and rasa == "ok" else 503
