"""The real Rasa server and action server, trained from rasa_project/, started for the suite."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path

import requests

from bot.config import ROOT
from bot.launcher import free_port, stop_group


class RasaServer:
    """`scripts/run_rasa.sh` and `scripts/run_actions.sh` as child processes, each in its own group."""

    def __init__(self, workdir: Path, tracker_env: dict[str, str] | None = None):
        self.workdir = workdir
        self.port = free_port()
        self.actions_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token, self.actions_token = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.env = dict(os.environ, RASA_PORT=str(self.port), ACTIONS_PORT=str(self.actions_port),
                        RASA_TRACKER_DB=str(workdir / "rasa_tracker.db"), RASA_LOG_LEVEL="WARNING",
                        RASA_TOKEN=self.token, ACTIONS_TOKEN=self.actions_token)
        self.env.pop("RASA_TRACKER_URL", None)
        self.env.update(tracker_env or {})
        self.procs: dict[str, subprocess.Popen] = {}

    def settings_for(self, settings, **changes):
        """The gateway's settings pointed at this server, with its token."""
        return settings.with_(rasa_url=self.url, rasa_token=self.token, **changes)

    def _spawn(self, name: str, script: str) -> None:
        log = open(self.workdir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen([str(ROOT / "scripts" / script)], env=self.env, cwd=ROOT,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def start(self, timeout: float = 240) -> "RasaServer":
        if "actions" not in self.procs or self.procs["actions"].poll() is not None:
            self._spawn("actions", "run_actions.sh")
        self._spawn("rasa", "run_rasa.sh")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs["rasa"].poll() is not None:
                raise RuntimeError("rasa exited:\n" + (self.workdir / "rasa.log").read_text()[-3000:])
            try:
                status = requests.get(self.url + "/status", params={"token": self.token}, timeout=2)
                if status.status_code == 200 and status.json().get("model_file"):
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise TimeoutError("rasa did not become ready:\n" + (self.workdir / "rasa.log").read_text()[-3000:])

    def stop_rasa(self) -> None:
        """Stop the Rasa server only (the action server keeps running)."""
        self._stop("rasa")

    def _stop(self, name: str) -> None:
        proc = self.procs.get(name)
        if proc is not None:
            stop_group(proc, grace=20)

    def stop(self) -> None:
        for name in list(self.procs):
            self._stop(name)
