"""Logging that never carries phone numbers or message text."""

from __future__ import annotations

import logging
import re

PHONE = re.compile(r"(?<![\w+])(\+?\d{10,15}|0\d{3,4} ?\d{3} ?\d{3,4})(?!\w)")


class Redact(logging.Filter):
    """A last net: mask anything that looks like a phone number, even in a library's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = PHONE.sub("[number]", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if not any(isinstance(f, Redact) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        handler.addFilter(Redact())
        root.addHandler(handler)
    root.setLevel(level)
    # twilio-python logs request bodies (numbers, text) at INFO and DEBUG.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
