"""Thousands of generated webhooks, good and bad: no 5xx, no error logged, the database consistent after."""

from __future__ import annotations

import logging
import uuid
from collections import Counter

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import select

from bot.models import Carer, Message
from bot.messaging.worker import Dispatcher

NUMBERS = [f"+4477009008{n:02d}" for n in range(8)]
FIELD_NAMES = st.text(st.characters(min_codepoint=65, max_codepoint=122), min_size=1, max_size=12)
TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=200),
    st.sampled_from(["STOP", "start", "yes", "", "  ", "<b>x</b>", "'; DROP TABLE carers;--", "😀" * 80]),
    st.text(max_size=5).map(lambda t: t * 2000),
)
EVENT = st.fixed_dictionaries({
    "number": st.sampled_from(NUMBERS),
    "channel": st.sampled_from(["sms", "whatsapp"]),
    "body": TEXT,
    "replay": st.booleans(),
    "media": st.integers(0, 3),
    "extra": st.dictionaries(FIELD_NAMES, st.text(max_size=20), max_size=3),
    "tamper": st.sampled_from([None] * 8 + ["signature", "account", "no_from", "status"]),
})


def test_generated_webhooks_never_break_the_gateway(phone, services, twilio, settings, clock, caplog):
    caplog.set_level(logging.WARNING)
    seen_sids: list[str] = []
    posted = Counter()

    @hsettings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(EVENT, min_size=15, max_size=25))
    def run(events):
        for ev in events:
            p = phone(ev["number"], ev["channel"])
            sid = seen_sids[-1] if ev["replay"] and seen_sids else "SM" + uuid.uuid4().hex
            extra = {k: v for k, v in ev["extra"].items() if k not in p.form("")}
            if ev["media"]:
                extra.update(NumMedia=str(ev["media"]), MediaUrl0="https://api.twilio.com/media/ME1")
            form = {**p.form(ev["body"], sid=sid), **extra}  # an extra field may be named like a parameter
            tamper = ev["tamper"]
            if tamper == "account":
                form["AccountSid"] = "AC" + "2" * 32
            if tamper == "no_from":
                form.pop("From")
            if tamper == "status":
                response = p.post_form({"MessageSid": sid, "MessageStatus": ev["body"][:16] or "sent",
                                        "ErrorCode": ev["body"][:5]}, path="/webhooks/twilio/status")
            else:
                response = p.post_form(form, signature="Zm9yZ2Vk" if tamper == "signature" else None)
            posted[response.status_code] += 1
            assert response.status_code < 500
            if tamper is None:
                assert response.status_code == 200
                seen_sids.append(sid)
        clock.advance(minutes=1)
        Dispatcher(services).run_once()

    run()
    clock.advance(hours=1)
    for _ in range(5):
        Dispatcher(services).run_once()
    assert sum(posted.values()) >= 60 * 15 and posted[200] > 400  # the property really ran
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == []
    with services.db.session() as s:
        inbound = list(s.scalars(select(Message).where(Message.direction == "in")))
        assert all(m.carer_id is not None and m.conversation_id is not None for m in inbound)
        sids = [m.twilio_sid for m in inbound]
        assert len(sids) == len(set(sids)) == len(set(seen_sids))
        assert not [m for m in inbound if m.state != "done"]  # nothing stuck
        replies = Counter(s.scalars(select(Message.in_reply_to_id).where(Message.direction == "out",
                                                                         Message.kind == "reply")))
        carers = {c.id: c for c in s.scalars(select(Carer))}
        assert len(carers) <= len(NUMBERS)
    keys = [meta["message_key"] for _, _, meta in services.rasa.seen]
    assert len(keys) == len(set(keys))  # Rasa never saw a message twice
    by_sid = {m.twilio_sid: m for m in inbound}
    for key in keys:
        assert replies[by_sid[key].id] == 1  # and each one it answered has its reply, once
