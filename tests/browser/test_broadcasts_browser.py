"""Broadcast screens in real Chromium: write, see reach and cost, send, watch progress, stop; the reports page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from bot.council import broadcasts
from bot.duty import staff
from bot.models import Carer
from tests.bot.duty.test_handoff import PASSWORD, make_worker
from tests.browser.test_console_browser import wait

pytestmark = pytest.mark.browser


def test_admin_sends_a_broadcast_and_watches_it_go(browser, live_server, services, twilio, clock):
    make_worker(services, "admin@council.example", role=staff.ADMIN, name="Ada Admin")
    with services.db.session() as s:
        for i in range(3):
            s.add(Carer(phone=f"+44770090{i:04d}", channel="sms", created_at=clock.now(),
                        last_inbound_at=clock.now() - timedelta(hours=1)))
        s.add(Carer(phone="+447700909999", channel="sms", opted_out=True, created_at=clock.now()))

    browser.get(live_server + "/console/login")
    browser.find_element(By.ID, "email").send_keys("admin@council.example")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-in").click()
    wait(browser, EC.element_to_be_clickable((By.LINK_TEXT, "Broadcasts"))).click()
    wait(browser, EC.presence_of_element_located((By.ID, "message"))).send_keys("Carers' assessments reopen Monday.")
    Select(browser.find_element(By.ID, "channel")).select_by_value("sms")
    browser.find_element(By.ID, "preview").click()

    assert wait(browser, EC.presence_of_element_located((By.ID, "reach"))).text == "3 carers"
    assert browser.find_element(By.ID, "cost").text == "3 segments"
    browser.find_element(By.ID, "send-now").click()
    wait(browser, lambda d: d.find_element(By.ID, "state").text == "scheduled")

    broadcasts.tick(services)  # the scheduler's job, not the request, starts it
    services.outbox.send_due()
    browser.refresh()
    wait(browser, EC.presence_of_element_located((By.ID, "stop")))
    # The page keeps itself fresh: the next message leaves and the count moves without a reload.
    clock.advance(seconds=1)
    broadcasts.tick(services)
    services.outbox.send_due()
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, 'td[data-key="sent"]').text == "2")
    browser.find_element(By.ID, "stop").click()
    wait(browser, lambda d: d.find_element(By.ID, "state").text == "stopped")
    assert len(twilio.messages()) == 2

    browser.find_element(By.LINK_TEXT, "Reports").click()
    wait(browser, EC.presence_of_element_located((By.ID, "report-delivery")))
    assert browser.find_elements(By.CSS_SELECTOR, "#report-delivery svg rect")
