"""Talk to a running Rasa server over the gateway contract; print what the gateway would see.

Usage: python chat.py [--url http://127.0.0.1:5005] SENDER 'message' ['message' ...]
A message '!session' restarts the session like the gateway; '!remind' sends EXTERNAL_reminder;
'+48h:text' sends text with metadata.resumed_after_hours=48.
"""

import argparse
import json
import urllib.request


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def send(base, sender, message):
    """Send one message (or command) and return the custom payloads Rasa answered with."""
    if message == "!session":
        post(f"{base}/conversations/{sender}/execute", {"name": "action_session_start"})
        return []
    if message == "!remind":
        out = post(f"{base}/conversations/{sender}/trigger_intent?output_channel=latest", {"name": "EXTERNAL_reminder"})
        return [m.get("custom", m) for m in out.get("messages") or []]
    hours = 0.0
    if message.startswith("+") and "h:" in message:
        h, message = message[1:].split("h:", 1)
        hours = float(h)
    out = post(f"{base}/webhooks/rest/webhook", {"sender": sender, "message": message,
               "metadata": {"channel": "sms", "language": "en", "resumed_after_hours": hours}})
    return [m.get("custom", m) for m in out]


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:5005")
    ap.add_argument("sender")
    ap.add_argument("messages", nargs="+")
    a = ap.parse_args()
    for m in a.messages:
        print(">>", m)
        for c in send(a.url, a.sender, m):
            print("   ", json.dumps(c))
