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
def _session_lifetime(state) -> None:
    # A sign-in lasts CONSOLE_SESSION_HOURS; the cookie's flags are the app's (webhooks.security).
    settings = state.app.config["SETTINGS"]
    state.app.config.update(PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.console_session_hours))


from webhooks.console import routes  # noqa: E402,F401  (routes attach to bp)
from webhooks.console import broadcasts, reports  # noqa: E402,F401  (admin: broadcasts and reports)
