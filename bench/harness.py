"""What the benchmarks (and the scale test) share: a database, child processes, signed webhooks, RSS."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import requests
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from bot.launcher import free_port, stop_group

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "2" * 32
SMS_FROM = "+447700900000"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


# -- database ----------------------------------------------------------------------------------------

class Scratch:
    """A throwaway database with every table: a PostgreSQL schema of its own, or a SQLite file."""

    def __init__(self, base_url: str | None = None, prefix: str = "bench_"):
        base = base_url if base_url is not None else (os.environ.get("BENCH_DATABASE_URL")
                                                      or os.environ.get("TEST_POSTGRES_URL", ""))
        self.base, self.schema, self._admin = base, None, None
        if base:
            self.schema = prefix + uuid.uuid4().hex[:10]
            self._admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {self.schema}"))
            sep = "&" if "?" in base else "?"
            self.url = f"{base}{sep}{urlencode({'options': f'-csearch_path={self.schema}'})}"
        else:
            self.url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='carertext-bench-')) / 'bench.db'}"
        from bot import all_models  # noqa: F401
        from bot.db import make_engine
        from bot.models import Base

        engine = make_engine(self.url)
        Base.metadata.create_all(engine)
        engine.dispose()

    @property
    def kind(self) -> str:
        return "postgresql" if self.schema else "sqlite"

    def drop(self) -> None:
        if self._admin is not None:
            with self._admin.connect() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
            self._admin.dispose()
            self._admin = None


# -- processes ---------------------------------------------------------------------------------------

class Procs:
    """Child processes, each in its own process group; stop() ends exactly these."""

    def __init__(self, logdir: Path | None = None):
        self.logdir = logdir or Path(tempfile.mkdtemp(prefix="carertext-bench-logs-"))
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.logdir / f"{name}.log", "ab")
        proc = subprocess.Popen(args, env={**os.environ, **(env or {})}, cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.logdir / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            stop_group(proc, grace=15)

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)


def wait_http(url: str, seconds: float = 60.0, proc: subprocess.Popen | None = None, ok=(200, 503)) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=2).status_code in ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not answering after {seconds}s")


def gateway_env(db_url: str, port: int, rasa_url: str, standin_url: str, public_base_url: str | None = None,
                **extra: str) -> dict[str, str]:
    """The environment of one gateway or worker process (bot/config.py reads it)."""
    env = {
        "DATABASE_URL": db_url, "PUBLIC_BASE_URL": public_base_url or f"http://127.0.0.1:{port}",
        "RASA_URL": rasa_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE_URL": standin_url, "TWILIO_SMS_FROM": SMS_FROM, "LOG_LEVEL": "WARNING",
        "QUIET_HOURS": "", "PORT": str(port),
        # Per-number flood control (bot/messaging/ratelimit.py) would slow a carer answering 300 times in one sitting:
        # what is measured here is the reply path, so it is set out of reach.
        "RATE_LIMIT_PER_MINUTE": "1000000", "RATE_LIMIT_BURST": "1000000",
    }
    env.update({k.upper(): str(v) for k, v in extra.items()})
    return env


def start_gateway(procs: Procs, name: str, env: dict[str, str]) -> str:
    """`python -m bot.cli web` (gunicorn) on env PORT; returns its URL once /healthz answers."""
    port = env["PORT"]
    proc = procs.start(name, [PYTHON, "-m", "bot.cli", "web", "--port", port], env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/healthz", 60, proc)
    except (RuntimeError, TimeoutError) as exc:
        raise RuntimeError(f"{name} did not start: {exc}\n{procs.log(name)}") from None
    return url


def start_standin_process(procs: Procs, name: str = "standin") -> str:
    port = free_port()
    proc = procs.start(name, [PYTHON, "-m", "standin", "--port", str(port)],
                       {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_ACCOUNT_SID": ACCOUNT_SID})
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/_standin/faults", 60, proc, ok=(200,))
    # Callbacks need a reachable gateway on the signed public address; off keeps the load on what is measured.
    requests.post(url + "/_standin/faults", json={"callbacks": "off"}, timeout=5).raise_for_status()
    return url


def start_fake_rasa(procs: Procs, name: str = "fakerasa", delay_ms: float = 0.0) -> str:
    port = free_port()
    proc = procs.start(name, [PYTHON, "-m", "bench.fakerasa", "--port", str(port), "--delay-ms", str(delay_ms)])
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/status", 30, proc, ok=(200,))
    return url


class StandinArrivals:
    """The stand-in in this process, with the moment each send request arrived (its request line read)."""

    def __init__(self):
        from flask import request

        from standin.server import PathOnlyHandler, run_standin_in_thread

        class Stamped(PathOnlyHandler):
            """Notes when the request line came in, before the dev server parses anything else."""

            def parse_request(self):
                self.arrived = time.perf_counter()
                return super().parse_request()

            def make_environ(self):
                environ = super().make_environ()
                environ["bench.arrived"] = self.arrived
                return environ

        self.url, self.handle = run_standin_in_thread(AUTH_TOKEN, ACCOUNT_SID, request_handler=Stamped)
        self.handle.set_faults(callbacks="off")
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per send would drown the table
        self.cond = threading.Condition()
        self.arrivals: dict[str, list[float]] = {}

        def arrived():
            if request.method == "POST" and request.path.endswith("/Messages.json"):
                at = request.environ["bench.arrived"]
                to = request.form.get("To", "")
                with self.cond:
                    self.arrivals.setdefault(to, []).append(at)
                    self.cond.notify_all()

        self.handle.app.before_request(arrived)

    def wait(self, to: str, count: int, timeout: float = 60.0) -> list[float]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.arrivals.get(to, [])) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{count} sends to one number not seen in {timeout}s")
                self.cond.wait(left)
            return list(self.arrivals[to])

    def stop(self) -> None:
        self.handle.stop()


class RasaTimer:
    """A pass-through in front of Rasa that times each message call the gateway makes, by message_key.

    What the gateway adds to a reply is then its end-to-end time minus its own Rasa call for the same
    message: Rasa's variance (tens of ms at the tail) no longer hides the few ms being measured. It
    relays bytes (no HTTP library either way), times from the request's last byte sent on to the
    response's last byte back, and reads the message key only after the answer has gone back: what
    little it costs counts against the gateway, never for it."""

    def __init__(self, rasa_url: str):
        from urllib.parse import urlsplit

        self.rasa_url = rasa_url.rstrip("/")
        upstream = urlsplit(self.rasa_url)
        self.upstream = (upstream.hostname or "127.0.0.1", upstream.port or 80)
        self.took: dict[str, float] = {}
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    @staticmethod
    def _read_message(stream) -> bytes | None:
        """One HTTP/1.1 message with a Content-Length (what requests and Sanic send), or None at close."""
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = stream.readline(65537)
            if not line:
                return None
            head += line
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return head + (stream.read(length) if length else b"")

    def _relay(self, conn: socket.socket) -> None:
        import json

        upstream = socket.create_connection(self.upstream)
        for sock in (conn, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        from_gateway, from_rasa = conn.makefile("rb"), upstream.makefile("rb")
        try:
            while True:
                request = self._read_message(from_gateway)
                if request is None:
                    return
                started = time.perf_counter()
                upstream.sendall(request)
                answer = self._read_message(from_rasa)
                took = time.perf_counter() - started
                conn.sendall(answer or b"")
                if request.startswith(b"POST /webhooks/rest/webhook "):
                    body = request.split(b"\r\n\r\n", 1)[1]
                    key = ((json.loads(body or b"{}").get("metadata") or {}).get("message_key")) or ""
                    self.took[key] = took
        except OSError:
            return
        finally:
            conn.close()
            upstream.close()

    def rasa_seconds(self, message_key: str, timeout: float = 10.0) -> float:
        deadline = time.monotonic() + timeout
        while message_key not in self.took:
            if time.monotonic() > deadline:
                raise TimeoutError("the gateway's Rasa call for this message was not seen")
            time.sleep(0.001)
        return self.took[message_key]

    def stop(self) -> None:
        self.listener.close()


# -- Twilio's side of a webhook ----------------------------------------------------------------------

class Signer:
    """Builds Twilio's incoming-message form and signs it for the gateway's public address."""

    def __init__(self, public_base_url: str):
        self.url = public_base_url.rstrip("/") + "/webhooks/twilio/messages"
        self.validator = RequestValidator(AUTH_TOKEN)

    def form(self, phone: str, body: str) -> tuple[dict[str, str], dict[str, str]]:
        sid = "SM" + uuid.uuid4().hex
        form = {"MessageSid": sid, "SmsMessageSid": sid, "AccountSid": ACCOUNT_SID, "From": phone,
                "To": SMS_FROM, "Body": body, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
                "ApiVersion": "2010-04-01"}
        return form, {"X-Twilio-Signature": self.validator.compute_signature(self.url, form)}


def phone_number(n: int, block: int = 0) -> str:
    return f"+4477{block:02d}{n:06d}"


# -- memory ------------------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (MB), from /proc."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
        stack += _children(p)
    return total / 1024
