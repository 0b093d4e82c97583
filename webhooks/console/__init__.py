"""The duty worker console: server-rendered pages to take handoffs, reply, hand back and decide."""

from datetime import timedelta

from flask import Blueprint

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
)


@bp.record_once
def _session_cookie(state) -> None:
    # The console's cookie carries a worker's sign-in: never readable by script, never sent cross-site.
    settings = state.app.config["SETTINGS"]
    state.app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.production),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.console_session_hours),
    )


from webhooks.console import routes  # noqa: E402,F401  (routes attach to bp)
from webhooks.console import broadcasts, reports  # noqa: E402,F401  (admin: broadcasts and reports)
