"""`make run`: start every process, print where to find them, stop them all on Ctrl-C."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def _wait(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return False


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop a child started in its own session, and what it started: SIGTERM, then SIGKILL after `grace`."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    except ProcessLookupError:
        pass


def run_all(root: Path) -> None:
    """Start the stand-in (without a Twilio account), action server, Rasa, gateway and scheduler."""
    env = dict(os.environ)
    port = env.setdefault("PORT", "5000")
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    env.setdefault("RASA_URL", "http://127.0.0.1:" + env.get("RASA_PORT", "5005"))
    # Rasa and the action server answer only calls that carry these, even from this machine's other users.
    env.setdefault("RASA_TOKEN", secrets.token_urlsafe(24))
    env.setdefault("ACTIONS_TOKEN", secrets.token_urlsafe(24))
    local_twilio = not env.get("TWILIO_AUTH_TOKEN")
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    py = sys.executable

    def start(name: str, args: list[str]) -> None:
        procs.append((name, subprocess.Popen(args, env=env, cwd=root, start_new_session=True)))

    if local_twilio:
        # No Twilio account: a local stand-in for its Messages API and a phone simulator page.
        env["TWILIO_AUTH_TOKEN"] = "local-" + secrets.token_hex(8)
        env.setdefault("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
        env["TWILIO_API_BASE_URL"] = "http://127.0.0.1:" + env.get("STANDIN_PORT", "4010")
        env["SIMULATOR"] = "1"
        start("twilio stand-in", [py, "-m", "standin", "--port", env.get("STANDIN_PORT", "4010")])
    start("action server", [str(root / "scripts" / "run_actions.sh")])
    start("rasa server", [str(root / "scripts" / "run_rasa.sh")])
    start("gateway", [py, "-m", "bot.cli", "web", "--port", port])
    start("scheduler", [py, "-m", "bot.cli", "scheduler"])

    def stop(*_args: object) -> None:
        # Signal every process first, so they wind down together rather than one grace period each.
        for _name, proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _name, proc in reversed(procs):
            stop_group(proc)
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    base = env["PUBLIC_BASE_URL"]
    print("Starting CarerText... (Rasa takes about 20 s to load its model)", flush=True)
    if local_twilio and _wait(env["TWILIO_API_BASE_URL"] + "/_standin/faults", 30):
        # The stand-in forgets its Content when it stops: make the WhatsApp buttons again, so the simulator
        # shows choices as a phone does, and no reply names a Content the stand-in no longer holds.
        made = subprocess.run([py, "-m", "bot.cli", "whatsapp-buttons"], env=env, cwd=root,
                              stdout=subprocess.DEVNULL, check=False)
        if made.returncode != 0:
            print("WhatsApp buttons not made: choices go as numbered text", flush=True)
    _wait(env["RASA_URL"] + "/status", 180)
    print("\nCarerText is running. Ctrl-C stops everything.")
    print(f"  gateway          {base}   (Twilio webhook: {base}/webhooks/twilio/messages)")
    print(f"  health           {base}/healthz")
    print(f"  duty console     {base}/console")
    if local_twilio:
        print(f"  phone simulator  {base}/simulator")
        print(f"  Twilio stand-in  {env['TWILIO_API_BASE_URL']}")
    print(f"  Rasa server      {env['RASA_URL']}")
    print("  first console admin: .venv/bin/carertext create-admin you@council.example", flush=True)
    while True:
        for name, proc in procs:
            if proc.poll() is not None:
                print(f"{name} stopped (exit {proc.returncode}); stopping the rest", flush=True)
                stop()
        time.sleep(1)
