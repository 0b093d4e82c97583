"""python -m standin serves the stand-in with credentials from the environment."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import requests

SID = "AC" + "e" * 32


def test_cli_serves_and_checks_credentials_from_env() -> None:
    env = {**os.environ, "TWILIO_AUTH_TOKEN": "cli-token", "TWILIO_ACCOUNT_SID": SID}
    proc = subprocess.Popen([sys.executable, "-m", "standin", "--port", "0"], env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        url = re.search(r"http://[\d.]+:\d+", line).group(0)
        path = f"{url}/2010-04-01/Accounts/{SID}/Messages.json"
        data = {"To": "+447700900123", "From": "+447700900000", "Body": "hi"}
        assert requests.post(path, data=data, auth=(SID, "cli-token"), timeout=5).status_code == 201
        assert requests.post(path, data=data, auth=(SID, "other"), timeout=5).status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_cli_refuses_without_a_token() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TWILIO_AUTH_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "standin"], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0 and "TWILIO_AUTH_TOKEN" in done.stderr
