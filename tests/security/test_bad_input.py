"""Bad input at the webhook: each gets a deliberate answer; nothing crashes; nothing is half-stored."""

from __future__ import annotations

import uuid

import pytest
from flask import request
from sqlalchemy import func, select, text
from twilio.request_validator import RequestValidator

from bot.messaging.inbox import MAX_BODY
from bot.models import Carer, Message
from bot.messaging.worker import Dispatcher


def rows(services, *where):
    with services.db.session() as s:
        return list(s.scalars(select(Message).where(*where).order_by(Message.id)))


def carers(services):
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(Carer))


def replies(twilio, to):
    return [m["body"] for m in twilio.messages(to=to)]


# -- who may post ------------------------------------------------------------------------------------


def _refused_request(case, form, sign, url):
    """The form and headers of one refused request, built from a valid signed form."""
    headers = {"X-Twilio-Signature": sign(url, form)}
    if case == "forged":
        headers["X-Twilio-Signature"] = sign(url, {**form, "Body": "something else"})
    elif case == "not_base64":
        headers["X-Twilio-Signature"] = "bm90IGEgc2lnbmF0dXJl"
    elif case == "missing":
        headers = {}
    elif case == "empty_signature":
        headers["X-Twilio-Signature"] = ""
    elif case == "other_url":
        headers["X-Twilio-Signature"] = sign("https://evil.example.org/webhooks/twilio/messages", form)
    elif case == "internal_url":
        headers["X-Twilio-Signature"] = sign("http://internal:5000/webhooks/twilio/messages", form)
    elif case == "wrong_account":
        form["AccountSid"] = "AC" + "9" * 32
        headers["X-Twilio-Signature"] = sign(url, form)
    elif case in ("no_MessageSid", "no_From"):
        form.pop(case.removeprefix("no_"))
        form.pop("SmsMessageSid")
        headers["X-Twilio-Signature"] = sign(url, form)
    elif case == "huge":
        form, headers = {"Body": "x" * 300_000}, {"X-Twilio-Signature": "x"}
    return form, headers


# Every way an inbound webhook is refused, and the answer Twilio gets for it.
REFUSED = {
    "forged": 403, "not_base64": 403, "missing": 403, "empty_signature": 403, "other_url": 403,
    "internal_url": 403, "wrong_account": 403, "no_MessageSid": 400, "no_From": 400, "huge": 413,
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_requests_get_their_answer_and_nothing_is_stored_or_sent(case, phone, services, settings, twilio):
    p = phone("+447700900301")
    sign = RequestValidator(settings.twilio_auth_token).compute_signature
    form, headers = _refused_request(case, p.form("hello"), sign, settings.inbound_url)
    response = p.client.post("/webhooks/twilio/messages", data=form, headers=headers)
    assert response.status_code == REFUSED[case]
    assert rows(services) == [] and carers(services) == 0
    Dispatcher(services).run_once()
    assert twilio.messages() == []


def test_a_replayed_valid_request_is_a_duplicate_and_ignored(phone, services, twilio):
    p = phone("+447700900302")
    form = p.form("hello")
    first, again = p.post_form(form), p.post_form(dict(form))
    assert first.status_code == again.status_code == 200
    Dispatcher(services).run_once()
    assert len(rows(services, Message.direction == "in")) == 1
    assert replies(twilio, p.address) == ["got: hello"]


# -- what a carer may send -------------------------------------------------------------------------


TEXTS = {
    "emoji": "thanks, all sorted 😩❤️ 👍🏽",
    "arabic": "أنا أعتني بأمي",
    "chinese": "我照顾我的父亲",
    "cyrillic": "Я ухаживаю за мужем",
    "sql": "Robert'); DROP TABLE messages;--",
    "html": "<script>alert('x')</script><b>bold</b> &amp;",
}


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_any_script_or_markup_is_stored_verbatim_and_answered(name, phone, services, twilio):
    p = phone("+447700900310")
    assert p.send(TEXTS[name]).status_code == 200
    Dispatcher(services).run_once()
    (msg,) = rows(services, Message.direction == "in")
    assert msg.body == TEXTS[name] and msg.state == "done"
    assert replies(twilio, p.address) == ["got: " + TEXTS[name][:40]]
    with services.db.session() as s:  # the tables are all still there
        assert s.execute(text("SELECT count(*) FROM messages")).scalar() == 2


def test_empty_body_gets_a_kind_answer(phone, services, twilio):
    p = phone("+447700900311")
    p.send("")
    p.send("   ")
    Dispatcher(services).run_once()
    expected = services.catalogue.text("empty_message")
    assert replies(twilio, p.address) == [expected, expected]
    assert services.rasa.seen == []


def test_media_only_is_acknowledged_and_the_media_never_fetched(phone, services, twilio):
    p = phone("+447700900312", "whatsapp")
    media = f"{twilio.url}/2010-04-01/Accounts/{twilio.account_sid}/Messages/MM{'1' * 32}/Media/ME{'2' * 32}"
    p.send("", NumMedia="1", MediaUrl0=media, MediaContentType0="image/jpeg")
    Dispatcher(services).run_once()
    assert replies(twilio, p.address) == [services.catalogue.text("media_received")]
    assert not [r for r in twilio.state.requests if "/Media/" in r.path]
    (msg,) = rows(services, Message.direction == "in")
    assert msg.num_media == 1


def test_ten_thousand_characters_are_kept_up_to_the_cap_and_answered(phone, services, twilio):
    p = phone("+447700900313")
    long = ("I look after my mum. " * 500)[:10_000]
    assert p.send(long).status_code == 200
    Dispatcher(services).run_once()
    (msg,) = rows(services, Message.direction == "in")
    assert msg.body == long[:MAX_BODY] and msg.state == "done"
    assert len(replies(twilio, p.address)) == 1


def test_invalid_utf8_and_control_characters_are_cleaned_not_crashed_on(phone, services, twilio, settings):
    p = phone("+447700900314")
    sid = "SM" + uuid.uuid4().hex
    raw = (f"MessageSid={sid}&AccountSid={settings.twilio_account_sid}&From=%2B447700900314"
           f"&To=%2B447700900000&NumMedia=0&Body=caf%C3%A9+%FF%FE+bell%07+nul%00+esc%1B+ok%0Anext").encode()
    # Twilio signs the values as decoded; sign them as Werkzeug decodes them (bad bytes kept as %FF).
    with p.client.application.test_request_context("/", method="POST", data=raw,
                                                     content_type="application/x-www-form-urlencoded"):
        form = request.form.to_dict()
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(settings.inbound_url, form)
    response = p.client.post("/webhooks/twilio/messages", data=raw, headers={
        "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    Dispatcher(services).run_once()
    (msg,) = rows(services, Message.direction == "in")
    assert msg.body.startswith("café") and msg.body.endswith("ok\nnext")
    assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in msg.body)
    assert msg.state == "done" and len(replies(twilio, p.address)) == 1


def test_unknown_fields_are_accepted(phone, services, twilio):
    p = phone("+447700900315", "whatsapp")
    p.send("hello", ButtonPayload="x", ReferralCtwaClid="abc", SomethingNew="🙂" * 10, Latitude="51.5")
    Dispatcher(services).run_once()
    assert replies(twilio, p.address) == ["got: hello"]


def test_a_number_never_seen_becomes_a_new_carer(phone, services, twilio):
    p = phone("+447700900316")
    p.send("hi")
    Dispatcher(services).run_once()
    with services.db.session() as s:
        carer = s.scalars(select(Carer)).one()
        assert carer.phone == "+447700900316" and carer.channel == "sms"
    assert replies(twilio, p.address) == ["got: hi"]


def test_the_same_carer_on_sms_and_whatsapp_is_one_carer_answered_on_each_channel(phone, services, twilio):
    phone("+447700900317", "sms").send("by text")
    phone("+447700900317", "whatsapp").send("by whatsapp")
    Dispatcher(services).run_once()
    assert carers(services) == 1
    assert replies(twilio, "+447700900317") == ["got: by text"]
    assert replies(twilio, "whatsapp:+447700900317") == ["got: by whatsapp"]


# -- status callbacks --------------------------------------------------------------------------------


def test_status_callbacks_out_of_order_duplicated_unknown_or_malformed(phone, services, twilio, settings):
    p = phone("+447700900318")
    p.send("hello")
    Dispatcher(services).run_once()
    sid = twilio.messages()[0]["sid"]

    def callback(**fields):
        return p.post_form({"AccountSid": settings.twilio_account_sid, **fields}, path="/webhooks/twilio/status")

    # A callback can beat the send result, arrive twice, or come back from an earlier state.
    assert callback(MessageSid="SM" + "f" * 32, MessageStatus="delivered").status_code == 204
    for status in ("delivered", "sent", "delivered", "queued", "sending"):
        assert callback(MessageSid=sid, MessageStatus=status).status_code == 204
    assert callback(MessageSid=sid, MessageStatus="undelivered", ErrorCode="not-a-number").status_code == 204
    assert callback(MessageSid=sid).status_code == 400
    (out,) = rows(services, Message.direction == "out")
    assert out.delivery_status == "delivered"
    # Statuses Twilio never sends and ids that are not Twilio's are refused, and nothing is recorded.
    for fields in ({"MessageSid": sid, "MessageStatus": "\x00"}, {"MessageSid": sid, "MessageStatus": "lost"},
                   {"MessageSid": "SM\x00" + "f" * 31, "MessageStatus": "read"},
                   {"MessageSid": "'; DROP TABLE messages;--", "MessageStatus": "read"}):
        assert callback(**fields).status_code == 400
    assert callback(MessageSid=sid, MessageStatus="read", AccountSid="AC" + "2" * 32).status_code == 403
    (out,) = rows(services, Message.direction == "out")
    assert out.delivery_status == "delivered"


def test_control_characters_in_address_fields_are_cleaned_not_crashed(phone, services, twilio):
    p = phone("+447700900319")
    response = p.post_form(p.form("hello", ProfileName="Sam\x00\x1b[31m"))
    assert response.status_code == 200
    response = p.post_form(p.form("hi", sid="SM\x00" + "a" * 31))
    assert response.status_code == 400
    Dispatcher(services).run_once()
    assert replies(twilio, "+447700900319") == ["got: hello"]
