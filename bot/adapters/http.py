"""A lean HTTP/1.1 client for the reply path: kept-alive connections, one per thread and origin.

requests costs about 1 ms a call on a slow core before a byte leaves (it reads the whole environment
for proxies on every request); http.client costs a fifth of that. Rasa and Twilio are each called once
per reply, so this is where CarerText's own share of a reply's time goes down."""

from __future__ import annotations

import http.client
import json as jsonlib
import select
import socket
import ssl
import threading
import urllib.request
from base64 import b64encode
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlencode, urlsplit


Origin = tuple[str, str, int | None]  # scheme, host, port


class HttpFailed(Exception):
    """No answer: the connection failed or timed out. `sent` says whether the request may have arrived."""

    def __init__(self, reason: str, sent: bool):
        super().__init__(reason)
        self.sent = sent


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON: whatever shape the other end sent."""
        return jsonlib.loads(self.body or b"null")


def _tls_context() -> ssl.SSLContext:
    """The CA bundle requests would use (certifi), else the system's."""
    try:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:
        return ssl.create_default_context()


class KeepAliveClient:
    """HTTP/1.1 over one kept-alive connection per thread and origin; safe to share between threads."""

    def __init__(self, timeout: float = 20.0, user_agent: str = "carertext"):
        self.timeout = timeout
        self.user_agent = user_agent
        self._local = threading.local()
        self._tls: ssl.SSLContext | None = None
        # Proxies are read once here, not on every request as requests does.
        self._proxies = urllib.request.getproxies()

    def request(self, method: str, url: str, *, params: Mapping[str, object] | None = None,
                data: Mapping[str, object] | None = None, json: object = None,
                headers: Mapping[str, str] | None = None, auth: tuple[str, str] | None = None,
                timeout: float | None = None) -> HttpResponse:
        """One request; raises HttpFailed when no answer came back."""
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if params:
            path += ("&" if "?" in path else "?") + urlencode(params, doseq=True)
        sent_headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent_headers["Content-Type"] = "application/json"
        elif data is not None:
            body = urlencode(data, doseq=True).encode()
            sent_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if auth is not None:
            sent_headers["Authorization"] = "Basic " + b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        sent_headers.update(headers or {})
        if body is not None:
            sent_headers["Content-Type"] = sent_headers.get("Content-Type") or "application/octet-stream"
        conn = self._connection(parts.scheme, parts.hostname or "", parts.port, timeout or self.timeout)
        sent = False
        try:
            conn.request(method, path, body=body, headers=sent_headers)
            sent = True
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self._drop(parts.scheme, parts.hostname or "", parts.port)
            raise HttpFailed(type(exc).__name__, sent) from None
        if response.will_close:
            self._drop(parts.scheme, parts.hostname or "", parts.port)
        return HttpResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, payload)

    def _connections(self) -> dict[Origin, http.client.HTTPConnection]:
        conns: dict[Origin, http.client.HTTPConnection] | None = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        return conns

    def _connection(self, scheme: str, host: str, port: int | None, timeout: float) -> http.client.HTTPConnection:
        key = (scheme, host, port)
        conn = self._connections().get(key)
        if conn is not None and (conn.sock is None or _dropped(conn.sock)):
            conn.close()  # the server closed it while idle: a fresh one, so no request is lost on it
            conn = None
        if conn is None:
            conn = self._connections()[key] = self._open(scheme, host, port, timeout)
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def _open(self, scheme: str, host: str, port: int | None, timeout: float) -> http.client.HTTPConnection:
        if scheme == "https":
            proxy = None if urllib.request.proxy_bypass(host) else self._proxies.get("https")
            if self._tls is None:
                self._tls = _tls_context()
            if proxy:
                p = urlsplit(proxy)
                if p.hostname is None:
                    raise HttpFailed("proxy without a host", sent=False)
                conn = http.client.HTTPSConnection(p.hostname, p.port or 80, timeout=timeout, context=self._tls)
                conn.set_tunnel(host, port or 443)
                return conn
            return http.client.HTTPSConnection(host, port or 443, timeout=timeout, context=self._tls)
        # Plain HTTP is for services inside the deployment (Rasa, a stand-in): never through a proxy.
        return http.client.HTTPConnection(host, port or 80, timeout=timeout)

    def _drop(self, scheme: str, host: str, port: int | None) -> None:
        conn = self._connections().pop((scheme, host, port), None)
        if conn is not None:
            conn.close()


def _dropped(sock: socket.socket) -> bool:
    """Whether an idle kept-alive socket was closed by the other end (it reads as ready, with nothing)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
