"""Status callbacks arrive signed so RequestValidator accepts them, in order or deliberately not."""

from __future__ import annotations

from collections import Counter

from twilio.rest import Client

from standin import StandinHandle

CARER = "+447700900123"
SMS_FROM = "+447700900000"


def test_sms_callbacks_are_signed_and_ordered(client: Client, standin: StandinHandle, callbacks) -> None:
    sent = client.messages.create(to=CARER, from_=SMS_FROM, body="x", status_callback=callbacks.url)
    received = callbacks.wait_for(3)
    assert [form["MessageStatus"] for form, _ in received] == ["queued", "sent", "delivered"]
    assert all(valid for _, valid in received)
    form = received[0][0]
    assert (form["MessageSid"], form["AccountSid"]) == (sent.sid, standin.account_sid)
    assert (form["From"], form["To"]) == (SMS_FROM, CARER)
    assert "ErrorCode" not in form
    assert client.messages(sent.sid).fetch().status == "delivered"


def test_whatsapp_adds_read(client: Client, standin: StandinHandle, callbacks) -> None:
    client.messages.create(to="whatsapp:" + CARER, from_="whatsapp:" + SMS_FROM, body="x",
                           status_callback=callbacks.url)
    statuses = [form["MessageStatus"] for form, _ in callbacks.wait_for(4)]
    assert statuses == ["queued", "sent", "delivered", "read"]


def test_closed_window_fails_by_callback_with_63016(client: Client, standin: StandinHandle,
                                                    callbacks) -> None:
    standin.set_faults(window_closed=[CARER])  # window_mode "callback" is the default, as Twilio does it
    sent = client.messages.create(to="whatsapp:" + CARER, from_="whatsapp:" + SMS_FROM, body="x",
                                  status_callback=callbacks.url)
    assert sent.status == "queued"
    received = callbacks.wait_for(2)
    assert [(f["MessageStatus"], f.get("ErrorCode")) for f, _ in received] == [("queued", None), ("failed", "63016")]
    fetched = client.messages(sent.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("failed", 63016)


def test_chaos_sends_duplicates_out_of_order(client: Client, standin: StandinHandle, callbacks) -> None:
    standin.set_faults(callbacks="chaos")
    sent = client.messages.create(to=CARER, from_=SMS_FROM, body="x", status_callback=callbacks.url)
    received = callbacks.wait_for(6)
    assert Counter(form["MessageStatus"] for form, _ in received) == {"queued": 2, "sent": 2, "delivered": 2}
    assert all(valid for _, valid in received)
    # The stored message still ends at its true status.
    assert client.messages(sent.sid).fetch().status == "delivered"


def test_callbacks_off(client: Client, standin: StandinHandle, callbacks) -> None:
    standin.set_faults(callbacks="off")
    client.messages.create(to=CARER, from_=SMS_FROM, body="x", status_callback=callbacks.url)
    assert callbacks.wait_for(1, timeout=0.5) == []
