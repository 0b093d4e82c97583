"""The phone simulator: text the bot as an SMS or WhatsApp user through the signed webhook path."""

from flask import Blueprint

bp = Blueprint(
    "simulator",
    __name__,
    url_prefix="/simulator",
    template_folder="templates",
    static_folder="static",
)

from webhooks.simulator import routes  # noqa: E402,F401  (routes attach to bp)
