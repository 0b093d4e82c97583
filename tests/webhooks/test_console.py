"""The duty console over HTTP: strangers and forged forms are refused, roles hold, carer text is escaped."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.duty import staff
from bot.models import Handoff, Message
from tests.bot.duty.test_handoff import PASSWORD, make_worker, seed_case

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token(client, path="/console/login") -> str:
    return TOKEN.search(client.get(path).get_data(as_text=True)).group(1)


def sign_in(client, email="duty@council.example", password=PASSWORD):
    return client.post("/console/login", data={"email": email, "password": password, "csrf_token": token(client)})


@pytest.fixture
def case(phone, services):
    return seed_case(services, phone, "<script>alert('x')</script> I want to end my life <b>tonight</b>")


PAGES = ["/console/", "/console/queue.json", "/console/handoffs/{id}", "/console/handoffs/{id}/messages.json",
         "/console/audit", "/console/staff"]
FORMS = ["/console/logout", "/console/handoffs/{id}/claim", "/console/handoffs/{id}/reply",
         "/console/handoffs/{id}/hand-back", "/console/handoffs/{id}/close", "/console/handoffs/{id}/decide",
         "/console/staff"]


@pytest.mark.parametrize("path", PAGES)
def test_unauthenticated_pages_are_refused(client, case, path):
    response = client.get(path.format(id=case))
    if path.endswith(".json"):
        assert response.status_code == 401
    else:
        assert response.status_code == 302 and response.headers["Location"].endswith("/console/login")


@pytest.mark.parametrize("path", FORMS)
def test_unauthenticated_forms_are_refused_even_with_a_token(client, case, services, path):
    response = client.post(path.format(id=case), data={"csrf_token": token(client), "body": "hi"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/login")
    with services.db.session() as s:
        assert s.get(Handoff, case).state == "open"


def test_sign_in_with_a_wrong_password_is_refused(client, services):
    make_worker(services)
    assert sign_in(client, password="not the password").status_code == 401
    assert client.get("/console/").status_code == 302


@pytest.mark.parametrize("path", FORMS)
def test_forms_without_a_csrf_token_are_refused(client, services, case, path):
    make_worker(services, role=staff.ADMIN)
    assert sign_in(client).status_code == 302
    response = client.post(path.format(id=case), data={"body": "hi", "outcome": "resolved"})
    assert response.status_code == 400
    response = client.post(path.format(id=case), data={"body": "hi", "csrf_token": "forged"})
    assert response.status_code == 400
    with services.db.session() as s:
        assert s.get(Handoff, case).state == "open"


def test_login_without_a_csrf_token_is_refused(client, services):
    make_worker(services)
    response = client.post("/console/login", data={"email": "duty@council.example", "password": PASSWORD})
    assert response.status_code == 400


def test_a_duty_worker_cannot_read_the_audit_log_and_a_manager_can(client, services, case, app):
    make_worker(services)
    make_worker(services, "manager@council.example", role=staff.TEAM_MANAGER)
    sign_in(client)
    assert client.get(f"/console/handoffs/{case}").status_code == 200
    assert client.get("/console/audit").status_code == 403
    manager = app.test_client()
    sign_in(manager, "manager@council.example")
    page = manager.get("/console/audit").get_data(as_text=True)
    assert "view_handoff" in page and "login" in page


def test_carer_text_is_shown_escaped(client, services, case):
    make_worker(services)
    sign_in(client)
    page = client.get(f"/console/handoffs/{case}").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in page
    assert "<script>alert" not in page and "<b>tonight</b>" not in page
    assert client.get("/console/").headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_queue_json_lists_the_urgent_item(client, services, case):
    make_worker(services)
    sign_in(client)
    data = client.get("/console/queue.json").get_json()
    assert data["urgent_open"] == 1
    assert data["items"][0]["id"] == case and data["items"][0]["urgency"] == "urgent"
    assert "+44" not in str(data)  # only the end of a number leaves in the poll


def test_claim_reply_and_close_through_the_console(client, services, case, twilio):
    make_worker(services, name="Sam")
    sign_in(client)
    csrf = token(client, f"/console/handoffs/{case}")
    assert client.post(f"/console/handoffs/{case}/claim", data={"csrf_token": csrf}).status_code == 302
    client.post(f"/console/handoffs/{case}/reply", data={"csrf_token": csrf, "body": "Hello, I'm Sam from the team"})
    assert twilio.messages()[-1]["body"] == "Hello, I'm Sam from the team"
    client.post(f"/console/handoffs/{case}/close", data={"csrf_token": csrf, "outcome": "resolved", "note": "ok"})
    with services.db.session() as s:
        h = s.get(Handoff, case)
        assert (h.state, h.outcome) == ("closed", "resolved")
        assert s.scalars(select(Message).where(Message.kind == "worker")).one().body == "Hello, I'm Sam from the team"


def test_a_second_worker_is_told_the_handoff_is_taken(client, services, case, app):
    make_worker(services)
    make_worker(services, "other@council.example")
    sign_in(client)
    other = app.test_client()
    sign_in(other, "other@council.example")
    for c in (client, other):
        c.post(f"/console/handoffs/{case}/claim", data={"csrf_token": token(c, "/console/")})
    page = other.get(f"/console/handoffs/{case}").get_data(as_text=True)
    assert "Someone else has already taken this handoff." in page


def test_sign_out_ends_the_session_even_for_a_copied_cookie(client, services, app):
    make_worker(services)
    sign_in(client)
    cookie = client.get_cookie("session").value
    client.post("/console/logout", data={"csrf_token": token(client, "/console/")})
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/console/").status_code == 302


def test_an_admin_creates_a_duty_worker(client, services):
    make_worker(services, "admin@council.example", role=staff.ADMIN)
    sign_in(client, "admin@council.example")
    client.post("/console/staff", data={"csrf_token": token(client, "/console/staff"), "email": "new@council.example",
                                        "password": PASSWORD, "role": staff.DUTY_WORKER})
    with services.db.session() as s:
        made = s.scalars(select(staff.Worker).where(staff.Worker.email == "new@council.example")).one()
        assert made.role == "duty_worker"


def test_the_worksheet_shows_an_unclear_answer_in_the_carers_words(client, services, phone, rasa):
    from bot.models import Answer
    from tests.bot.duty.test_handoff import complete

    handoff_id = complete(services, phone, rasa)
    with services.db.session() as s:
        conv_id = s.get(Handoff, handoff_id).conversation_id
        s.add(Answer(conversation_id=conv_id, question_id="community", value=None, raw="dunno / depends really",
                     status="unclear", answered_at=services.clock.now()))
    make_worker(services)
    sign_in(client)
    page = client.get(f"/console/handoffs/{handoff_id}").get_data(as_text=True)
    outcomes = page[page.index('id="outcomes"'):]
    row = outcomes[outcomes.index("(vii)"):outcomes.index("(viii)")]
    assert "unclear: check with the carer" in row and "dunno / depends really" in row
