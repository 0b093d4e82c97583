"""Serve the stand-in: in a thread for tests, or from the command line."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from standin.app import create_standin
from standin.state import Faults, StandinState


class PathOnlyHandler(WSGIRequestHandler):
    """Log the method and path only: query strings (?to=) carry phone numbers."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.log("info", '"%s %s" %s', self.command, self.path.split("?", 1)[0], code)


@dataclass
class StandinHandle:
    """A running stand-in: its URL, its state, and how to stop it."""

    url: str
    account_sid: str
    auth_token: str = field(repr=False)
    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread = field(repr=False)

    @property
    def state(self) -> StandinState:
        return self.app.config["STANDIN_STATE"]

    def set_faults(self, **changes: Any) -> Faults:
        """Change some faults (see standin.state.Faults)."""
        return self.state.set_faults(**changes)

    def reset(self) -> None:
        """Forget messages, requests, callbacks and faults."""
        self.state.reset()

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        """Return accepted messages, optionally for one recipient."""
        return self.state.list_messages(to)

    def wait_for(self, count: int, timeout: float = 10.0, to: str | None = None) -> list[dict[str, Any]]:
        """Block until count messages exist; raise TimeoutError otherwise."""
        found = self.state.wait(count, timeout, to)
        if found is None:
            raise TimeoutError(f"{count} messages not reached in {timeout}s")
        return found

    def stop(self) -> None:
        """Stop serving and join the thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def run_standin_in_thread(
    auth_token: str, account_sid: str, host: str = "127.0.0.1", port: int = 0,
    request_handler: type[WSGIRequestHandler] = PathOnlyHandler, **kwargs: Any
) -> tuple[str, StandinHandle]:
    """Start the stand-in on a free port in a daemon thread; return its base URL and handle."""
    app = create_standin(auth_token, account_sid, **kwargs)
    server = make_server(host, port, app, threaded=True, request_handler=request_handler)
    url = f"http://{host}:{server.server_port}"
    # A short poll interval makes stop() quick, which keeps per-test servers cheap.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="standin", daemon=True)
    thread.start()
    logging.getLogger("standin").debug("stand-in on %s", url)
    return url, StandinHandle(url, account_sid, auth_token, app, server, thread)
