"""Broadcast and report screens over HTTP: admin only, CSRF, reach and cost, send, cancel, stop, CSV."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.council import broadcasts
from bot.duty import staff
from bot.models import Carer
from tests.bot.duty.test_handoff import make_worker
from tests.webhooks.test_console import sign_in, token


def carers(services, n, channel="sms"):
    with services.db.session() as s:
        for i in range(n):
            s.add(Carer(phone=f"+4477009{channel[0] == 'w'}{i:04d}", channel=channel, created_at=services.clock.now(),
                        last_inbound_at=services.clock.now() - timedelta(hours=1)))


def admin(client, services):
    make_worker(services, "admin@council.example", role=staff.ADMIN)
    assert sign_in(client, "admin@council.example").status_code == 302


def test_a_duty_worker_cannot_see_or_send_broadcasts(client, services):
    make_worker(services)
    sign_in(client)
    assert client.get("/console/broadcasts").status_code == 403
    assert client.get("/console/reports").status_code == 403
    form = {"csrf_token": token(client, "/console/"), "message": "x"}
    assert client.post("/console/broadcasts", data=form).status_code == 403
    assert 'href="/console/broadcasts"' not in client.get("/console/").get_data(as_text=True)


def test_admin_writes_sees_reach_and_cost_sends_and_stops(client, services):
    carers(services, 3)
    carers(services, 2, channel="whatsapp")
    admin(client, services)
    assert 'href="/console/broadcasts"' in client.get("/console/").get_data(as_text=True)
    assert client.post("/console/broadcasts", data={"message": "no token"}).status_code == 400
    response = client.post("/console/broadcasts", data={"csrf_token": token(client, "/console/broadcasts"),
                                                        "message": "a" * 200, "channel": "", "status": ""})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "5 carers" in page and "6 segments" in page and "2 segments each" in page
    assert 'id="reach-own-hours"' not in page  # nobody gave hours of their own
    bid = int(response.headers["Location"].rsplit("/", 1)[1])
    client.post(f"/console/broadcasts/{bid}/send", data={"csrf_token": token(client, f"/console/broadcasts/{bid}"),
                                                         "when": "now"})
    broadcasts.tick(services)
    data = client.get(f"/console/broadcasts/{bid}.json").get_json()
    assert data["state"] == "running" and data["recipients"] == 5 and data["queued"] == 2
    client.post(f"/console/broadcasts/{bid}/stop", data={"csrf_token": token(client, f"/console/broadcasts/{bid}")})
    assert client.get(f"/console/broadcasts/{bid}.json").get_json()["state"] == "stopped"


def test_reach_says_who_waits_for_their_own_hours(client, services):
    services.clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc))  # a Thursday morning
    carers(services, 2)
    with services.db.session() as s:
        for i, words in enumerate(["weekends only", "mornings", "evenings"]):
            s.add(Carer(phone=f"+44770091{i:04d}", channel="sms", created_at=services.clock.now(),
                        contact_window=words))
    admin(client, services)
    response = client.post("/console/broadcasts", data={"csrf_token": token(client, "/console/broadcasts"),
                                                        "message": "Drop-in on Friday", "channel": "", "status": ""})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ("3 carers told us the hours that suit them; 2 of them are outside those hours now, "
            "and theirs go when their hours open (the last at Sat 28 Nov 08:00)") in page


def test_schedule_then_cancel(client, services):
    carers(services, 1)
    admin(client, services)
    response = client.post("/console/broadcasts", data={"csrf_token": token(client, "/console/broadcasts"),
                                                        "message": "Review week", "status": "review_due"})
    bid = int(response.headers["Location"].rsplit("/", 1)[1])
    t = token(client, f"/console/broadcasts/{bid}")
    client.post(f"/console/broadcasts/{bid}/send", data={"csrf_token": t, "when": "later", "at": "2026-12-01T10:00"})
    assert "Scheduled for 2026-12-01 10:00" in client.get(f"/console/broadcasts/{bid}").get_data(as_text=True)
    client.post(f"/console/broadcasts/{bid}/cancel", data={"csrf_token": t})
    assert client.get(f"/console/broadcasts/{bid}.json").get_json()["state"] == "cancelled"


def test_reports_page_draws_svg_and_downloads_csv(client, services):
    admin(client, services)
    page = client.get("/console/reports?from=2026-09-01&to=2026-11-30").get_data(as_text=True)
    assert "Median days to complete" in page and "Download CSV" in page
    csv = client.get("/console/reports/delivery.csv?from=2026-09-01&to=2026-11-30")
    assert csv.status_code == 200 and csv.get_data(as_text=True).startswith("channel,sent,delivered,failed")
    assert client.get("/console/reports/nope.csv").status_code == 404
