"""HTTP only: parse, call one function of `bot`, answer."""

from __future__ import annotations

from flask import Flask

from bot import services as services_mod
from bot.config import Settings
from bot.logs import configure_logging


def create_app(settings: Settings | None = None, services=None) -> Flask:
    """Build the gateway app; tests pass their own settings and services."""
    settings = settings or (services.settings if services else Settings.from_env())
    settings.check_production()
    configure_logging(settings.log_level)
    services = services or services_mod.build(settings)
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["SERVICES"] = services
    app.config["SECRET_KEY"] = settings.secret_key or "dev-only-not-secret"
    # Twilio's longest form is far under this; a bigger body is refused before it is parsed.
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024

    from webhooks import console, health, twilio

    app.register_blueprint(twilio.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(console.bp)
    if settings.simulator:
        from webhooks.simulator import bp as simulator_bp

        app.register_blueprint(simulator_bp)
    # The session cookie carries a worker's sign-in: Secure whenever the public address is https.
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=settings.production or settings.public_base_url.startswith("https"))
    app.after_request(_security_headers)
    return app


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _security_headers(response):
    # Every response, webhooks and health included; a blueprint's stricter policy is kept.
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
