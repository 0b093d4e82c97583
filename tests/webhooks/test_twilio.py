"""The Twilio webhooks: stored before the answer, duplicates ignored, statuses never go back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.models import Carer, Message
from bot.messaging.worker import Dispatcher


def count(services, *where):
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(Message).where(*where))


def test_signed_message_is_stored_and_answered_with_empty_twiml(phone, services):
    response = phone().send("hello")
    assert response.status_code == 200
    assert response.content_type.startswith("text/xml")
    assert b"<Response/>" in response.data
    with services.db.session() as s:
        msg = s.scalars(select(Message)).one()
        assert (msg.direction, msg.body, msg.state, msg.channel) == ("in", "hello", "pending", "sms")


def test_extra_fields_are_accepted(phone, services):
    assert phone().send("hi", SomeNewTwilioField="x", MessagingServiceSid="MG" + "0" * 32).status_code == 200
    assert count(services) == 1


def test_same_message_sid_twice_gives_one_reply(phone, services, twilio):
    p = phone()
    sid = "SM" + "a" * 32
    assert p.send("hello", sid=sid).status_code == 200
    assert p.send("hello", sid=sid).status_code == 200
    Dispatcher(services).run_once()
    assert count(services, Message.direction == "in") == 1
    assert [m["body"] for m in twilio.messages()] == ["got: hello"]


def test_whatsapp_and_sms_from_one_number_are_one_carer(phone, services, twilio):
    phone("+447700900555", "sms").send("on sms")
    phone("+447700900555", "whatsapp").send("on whatsapp")
    Dispatcher(services).run_once()
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Carer)) == 1
    sent = twilio.messages()
    assert {m["to"] for m in sent} == {"+447700900555", "whatsapp:+447700900555"}


def test_replies_go_out_in_order_per_carer(phone, services, twilio):
    p = phone()
    for n in range(5):
        p.send(f"message {n}")
    Dispatcher(services).run_once()
    assert [m["body"] for m in twilio.messages()] == [f"got: message {n}" for n in range(5)]


def test_status_callbacks_never_move_backwards(phone, services, twilio, client, settings):
    phone().send("hello")
    Dispatcher(services).run_once()
    sid = twilio.messages()[0]["sid"]
    p = phone()

    def callback(status):
        form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": settings.twilio_account_sid}
        return p.post_form(form, path="/webhooks/twilio/status")

    assert callback("delivered").status_code == 204
    assert callback("sent").status_code == 204
    assert callback("delivered").status_code == 204
    with services.db.session() as s:
        out = s.scalars(select(Message).where(Message.twilio_sid == sid)).one()
        assert out.delivery_status == "delivered"


def test_status_callback_with_bad_signature_is_refused(client):
    r = client.post("/webhooks/twilio/status", data={"MessageSid": "SM1", "MessageStatus": "failed"},
                    headers={"X-Twilio-Signature": "x"})
    assert r.status_code == 403


def test_a_message_after_postgresql_dropped_the_connection_is_stored_at_the_first_try(phone, services, twilio):
    if not services.db.is_postgres:
        pytest.skip("a server dropping connections is PostgreSQL's case")
    from sqlalchemy import create_engine, text as sql

    p = phone("+447700900741")
    assert p.send("first").status_code == 200
    assert services.db.engine.pool.checkedin() == 1  # so the one dropped below is the one used next
    with services.db.engine.connect() as conn:  # the pooled connection the webhook will use next
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    admin = create_engine(services.db.url.split("?")[0], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(sql("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    assert p.send("second").status_code == 200  # not a 500 for Twilio to maybe retry
    Dispatcher(services).run_once()
    assert [m["body"] for m in twilio.messages(to=p.address)] == ["got: first", "got: second"]
