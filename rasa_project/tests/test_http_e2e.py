"""End to end against a running Rasa + action server, with the gateway's session restarts.

Runs only when CARERTEXT_RASA_URL is set (e.g. http://127.0.0.1:5005).
"""

import os
import uuid

import pytest

from chat import send

URL = os.environ.get("CARERTEXT_RASA_URL")
pytestmark = pytest.mark.skipif(not URL, reason="set CARERTEXT_RASA_URL to a running Rasa server")


def says(out):
    return [m.get("say") for m in out if "say" in m]


def test_assessment_survives_a_session_restart_mid_way():
    sender = uuid.uuid4().hex
    assert says(send(URL, sender, "hi")) == ["greet", "safe_to_text", "privacy_notice"]
    assert says(send(URL, sender, "yes")) == ["saved_any_time", "q.name"]
    send(URL, sender, "Jo")
    send(URL, sender, "!session")
    out = send(URL, sender, "evenings")
    assert out[0] == {"event": "answer", "question": "contact_times", "value": "evenings", "raw": "evenings",
                      "status": "answered"}
    assert says(out)[-1] == "q.cared_for_who"
    send(URL, sender, "got to go")
    send(URL, sender, "!session")
    out = send(URL, sender, "+30h:hi im back")
    assert says(out) == ["welcome_back", "recap.person", "carry_on_ask"]
    assert says(send(URL, sender, "yes")) == ["q.cared_for_who"]
    assert send(URL, sender, "STOP") == [{"event": "opt_out"}]
    assert send(URL, sender, "!session") == [] and send(URL, sender, "hello") == []
    assert says(send(URL, sender, "START")) == ["opt_in_welcome", "q.cared_for_who"]
