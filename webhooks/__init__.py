"""HTTP only: parse, call one function of `bot`, answer."""

from __future__ import annotations

from flask import Flask

from bot import services as services_mod
from bot.config import Settings, random_secret_key
from bot.logs import configure_logging
from webhooks.security import HEADERS, cookie_flags


def create_app(settings: Settings | None = None, services=None) -> Flask:
    """Build the gateway app; tests pass their own settings and services."""
    settings = settings or (services.settings if services else Settings.from_env())
    settings.check_production()
    configure_logging(settings.log_level)
    services = services or services_mod.build(settings)
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["SERVICES"] = services
    app.config["SECRET_KEY"] = settings.secret_key or random_secret_key()
    # Twilio's longest form is far under this; a bigger body is refused before it is parsed.
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024

    from webhooks import console, health, twilio

    app.register_blueprint(twilio.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(console.bp)
    if settings.simulator:
        from webhooks.simulator import bp as simulator_bp

        app.register_blueprint(simulator_bp)
    app.config.update(cookie_flags(settings))
    app.after_request(_security_headers)
    return app


def _security_headers(response):
    # Every response, webhooks and health included; a blueprint's stricter policy is kept.
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
