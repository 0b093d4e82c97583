"""E-mail to staff (the duty team's shared inbox), over SMTP; never to carers."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit


class AlertFailed(Exception):
    """A staff alert was not taken (mail server, chat webhook); retryable unless it was refused for good."""

    def __init__(self, reason: str, retryable: bool = True):
        super().__init__(reason)
        self.retryable = retryable


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class SmtpMailer:
    """smtp://user:password@host:587 (STARTTLS on 587 or ?starttls=1), smtps://host:465, or smtp://host:25."""

    def __init__(self, url: str, sender: str, timeout: float = 15.0):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:587")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.starttls = not self.implicit_tls and (self.port == 587 or "starttls=1" in parts.query)
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        self.sender = sender
        self.timeout = timeout

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        try:
            server: smtplib.SMTP
            if self.implicit_tls:
                server = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                          context=ssl.create_default_context())
            else:
                server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with server:
                if self.starttls:
                    server.starttls(context=ssl.create_default_context())
                if self.user:
                    server.login(self.user, self.password)
                server.send_message(message)
        except smtplib.SMTPResponseException as exc:
            # 5xx is the server saying no for good (bad address, refused); 4xx is "try later".
            raise AlertFailed(f"smtp {exc.smtp_code}", retryable=exc.smtp_code < 500) from None
        except smtplib.SMTPRecipientsRefused:
            raise AlertFailed("smtp recipients refused", retryable=False) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise AlertFailed(type(exc).__name__) from None
