"""Logging that never carries phone numbers or message text."""

from __future__ import annotations

import logging
import re
from typing import IO

PHONE = re.compile(r"(?<![\w+])(\+?\d{10,15}|0\d{3,4} ?\d{3} ?\d{3,4})(?!\w)")


def mask(text: str) -> str:
    """Replace anything that looks like a phone number."""
    return PHONE.sub("[number]", text)


class Redact(logging.Filter):
    """A last net: mask anything that looks like a phone number, even in a library's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class RedactingFormatter(logging.Formatter):
    """Mask numbers in the whole formatted line: a traceback can quote what the message did not."""

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


def handler(stream: IO[str] | None = None) -> logging.Handler:
    """The gateway's one log handler: each record masked, then the whole line masked again."""
    made = logging.StreamHandler(stream)
    made.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    made.addFilter(Redact())
    return made


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if not any(isinstance(h.formatter, RedactingFormatter) for h in root.handlers):
        root.addHandler(handler())
    root.setLevel(level)
    # twilio-python logs request bodies (numbers, text) at INFO and DEBUG.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
