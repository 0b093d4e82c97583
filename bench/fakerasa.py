"""A fake Rasa server for load and scale tests: echoes each message with a per-sender sequence number.

    python -m bench.fakerasa --port 5905 [--delay-ms 5]

POST /webhooks/rest/webhook {"sender", "message"} -> [{"text": "<message> #<n>"}], n = 1, 2, ... per sender.
It also counts overlaps: a second message for a sender arriving while one is still being answered (Rasa's
lock store exists to stop that; CarerText's carer lease must never cause it). GET /stats returns the counts
and every message per sender in arrival order.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, delay_ms: float):
        self.lock = threading.Lock()
        self.delay = delay_ms / 1000.0
        self.seen: dict[str, list[str]] = defaultdict(list)
        self.busy: dict[str, int] = defaultdict(int)
        self.overlaps = 0
        self.calls = 0
        self.sessions = 0


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _json(self, payload, status=200):
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def do_GET(self):
            if self.path == "/status":
                return self._json({"model_file": "fake"})
            if self.path == "/stats":
                with state.lock:
                    return self._json({"calls": state.calls, "overlaps": state.overlaps,
                                       "sessions": state.sessions, "seen": state.seen})
            if self.path.endswith("/tracker"):
                return self._json({"events": []})
            return self._json({}, 404)

        def do_POST(self):
            payload = self._body()
            if self.path == "/webhooks/rest/webhook":
                sender, message = payload.get("sender", ""), payload.get("message", "")
                with state.lock:
                    state.calls += 1
                    if state.busy[sender]:
                        state.overlaps += 1
                    state.busy[sender] += 1
                    state.seen[sender].append(message)
                    n = len(state.seen[sender])
                try:
                    if state.delay:
                        time.sleep(random.uniform(0, 2 * state.delay))
                finally:
                    with state.lock:
                        state.busy[sender] -= 1
                return self._json([{"recipient_id": sender, "text": f"{message} #{n}"}])
            if self.path.endswith("/execute"):
                with state.lock:
                    state.sessions += 1
                return self._json({"tracker": {}, "messages": []})
            if "/trigger_intent" in self.path:
                return self._json({"tracker": {}, "messages": []})
            return self._json({}, 404)

    return Handler


def serve(port: int = 0, delay_ms: float = 0.0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(State(delay_ms)))
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fakerasa")
    parser.add_argument("--port", type=int, default=5905)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="mean answer time (uniform 0..2x)")
    args = parser.parse_args()
    server = serve(args.port, args.delay_ms)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
