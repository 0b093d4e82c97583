"""Security headers and the session cookie's flags: one definition for every response and the console."""

from __future__ import annotations

# Every response, webhooks and health included.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Carer records: never cached, never framed, no scripts or styles but our own files.
CONSOLE_HEADERS = {
    **HEADERS,
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


def cookie_flags(settings) -> dict:
    """The session cookie carries a worker's sign-in: no script reads it, no other site sends it, and it is
    Secure whenever the public address is https."""
    return {"SESSION_COOKIE_HTTPONLY": True, "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": settings.production or settings.public_base_url.startswith("https")}
