"""WhatsApp buttons with the real Rasa server: the questions go out as Content, and a tap answers the question."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.messaging import whatsapp_buttons as buttons
from bot.adapters.twilio_content import TwilioContent
from bot.models import Answer, ChoiceButtons, Message
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.e2e.chat import REPLY, Chat

pytestmark = pytest.mark.rasa


def tap(chat: Chat, number: int, title: str, list_pick: bool = False) -> list[str]:
    """Tap a button (or pick from a list) the way WhatsApp reports it through Twilio."""
    fields = {"ListId": str(number), "ListTitle": title} if list_pick else \
        {"ButtonPayload": str(number), "ButtonText": title}
    send = chat.phone.send
    chat.phone.send = lambda body, sid=None, **extra: send(body, sid=sid, **fields, **extra)
    try:
        return chat.say(title)
    finally:
        chat.phone.send = send


def last_question_sent(live, twilio, to):
    """The latest outbound row that offered choices, and what the stand-in was asked to send for it."""
    with live.db.session() as s:
        row = s.scalars(select(Message).where(Message.direction == "out", Message.body.contains("\n1. "))
                        .order_by(Message.id.desc()).limit(1)).one()
    [request] = [r for r in twilio.state.requests if r.method == "POST" and r.form.get("To") == [to]
                 and r.form.get("ContentVariables") and json.loads(r.form["ContentVariables"][0])["1"]
                 == (row.content_variables or {}).get("1")][-1:]
    return row, request


def test_a_whatsapp_assessment_with_buttons(live, phone, twilio):
    with live.db.session() as s:
        made = buttons.sync(s, TwilioContent(ACCOUNT_SID, AUTH_TOKEN, twilio.url), live.catalogue,
                            live.clock.now(), buttons.choice_sets())
    assert {o.status for o in made} == {"created"}
    chat = Chat(live, phone, twilio, "+447700900302")
    chat.phone.channel = "whatsapp"
    to = chat.phone.address

    assert "Shall we start?" in " ".join(chat.say("hi"))
    notice, request = last_question_sent(live, twilio, to)
    with live.db.session() as s:
        consent = s.scalars(select(ChoiceButtons.content_sid).where(
            ChoiceButtons.choices == "choice.yes_go_on,choice.no_not_now")).one()
    assert notice.content_sid == consent and request.form["ContentSid"] == [consent]
    assert request.verdict == "accepted" and notice.body.endswith("\n1. Yes, let's start\n2. Not now")

    assert chat.question(tap(chat, 1, "Yes, let's start")) == "name"
    assert chat.question(chat.say(REPLY["name"])) == "contact_times"
    times, request = last_question_sent(live, twilio, to)
    assert request.verdict == "accepted" and times.content_sid  # four choices: a list picker

    nxt = chat.question(tap(chat, 3, "Evenings", list_pick=True))
    assert chat.answer_until(nxt, stop_at="able_in_future") == "able_in_future"
    able, request = last_question_sent(live, twilio, to)
    assert request.verdict == "accepted" and able.content_sid  # three choices: quick-reply buttons
    tap(chat, 2, "Not sure")

    with live.db.session() as s:
        answers = {a.question_id: (a.value, a.raw) for a in s.scalars(select(Answer))}
        taps = s.scalars(select(Message.body).where(Message.direction == "in", Message.body.like("_. %"))).all()
    assert answers["consent"][0] is True
    assert answers["contact_times"] == ("evenings", "3. Evenings")
    assert answers["able_in_future"] == ("not_sure", "2. Not sure")
    assert taps == ["1. Yes, let's start", "3. Evenings", "2. Not sure"]
