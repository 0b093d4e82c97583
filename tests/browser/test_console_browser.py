"""The duty console in real Chromium: sign in, see an urgent item arrive, claim, read, reply, hand back, close."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from bot.models import Conversation, Handoff
from bot.messaging.worker import Dispatcher
from tests.bot.duty.test_handoff import PASSWORD, make_worker, seed_case

pytestmark = pytest.mark.browser


def wait(driver, condition, timeout=15):
    # The queue redraws itself from the poll: an element found a moment ago may have been replaced.
    return WebDriverWait(driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(condition)


def click(driver, css):
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, css).click() or True)


def test_duty_worker_takes_an_urgent_handoff_end_to_end(browser, live_server, services, phone, twilio, rasa):
    make_worker(services, name="Sam Duty")
    first = seed_case(services, phone, "<b>he went for me</b> again last night", number="+447700900201")

    browser.get(live_server + "/console/")
    wait(browser, EC.url_contains("/console/login"))
    browser.find_element(By.ID, "email").send_keys("duty@council.example")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-in").click()
    urgent_row = f'#queue tr[data-id="{first}"][data-urgency="urgent"]'
    wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, urgent_row)))

    # A new urgent disclosure arrives while the page is open: it stands out without a reload.
    second = seed_case(services, phone, "I want to end my life", number="+447700900202")
    wait(browser, EC.visibility_of_element_located((By.ID, "new-urgent")))
    wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, f'#queue tr.new[data-id="{second}"]')))
    assert "urgent" in browser.title

    # Claim and read: the summary comes first and the carer's words show as text.
    click(browser, f'#queue tr[data-id="{first}"] a')
    wait(browser, EC.element_to_be_clickable((By.ID, "claim"))).click()
    wait(browser, EC.presence_of_element_located((By.ID, "reply-body")))
    assert browser.find_element(By.ID, "trigger").text == "<b>he went for me</b> again last night"
    assert "harm_to_carer" in browser.find_element(By.ID, "risk-flags").text
    assert browser.find_elements(By.CSS_SELECTOR, "#trigger b") == []
    summary_y = browser.find_element(By.ID, "summary").location["y"]
    assert summary_y < browser.find_element(By.ID, "conversation").location["y"]

    # Reply: it leaves through the outbox on the carer's channel.
    browser.find_element(By.ID, "reply-body").send_keys("Hi, this is Sam from the duty team. Are you safe now?")
    browser.find_element(By.ID, "send-reply").click()
    wait(browser, lambda d: any(m["body"].startswith("Hi, this is Sam") and m["to"] == "+447700900201"
                                for m in twilio.messages()))

    # The carer answers while Sam holds it: the bot is silent, the message shows in the console.
    phone("+447700900201").send("yes I'm at my sister's <i>now</i>")
    Dispatcher(services).run_once()
    wait(browser, lambda d: "yes I'm at my sister's <i>now</i>" in d.find_element(By.ID, "messages").text)
    assert rasa.seen == []

    # Hand back: the carer is told and the assessment resumes.
    browser.find_element(By.ID, "hand-back").click()
    wait(browser, lambda d: "closed" in d.find_element(By.ID, "state").text)
    bodies = [m["body"] for m in twilio.messages() if m["to"] == "+447700900201"]
    assert services.catalogue.text("handed_back") in bodies and "trigger: EXTERNAL_resume" in bodies
    with services.db.session() as s:
        assert s.get(Conversation, s.get(Handoff, first).conversation_id).state == "bot"

    # Close the other one with an outcome and a note.
    browser.get(f"{live_server}/console/handoffs/{second}")
    wait(browser, EC.element_to_be_clickable((By.ID, "claim"))).click()
    Select(wait(browser, EC.presence_of_element_located((By.ID, "outcome")))).select_by_value("resolved")
    browser.find_element(By.ID, "close-note").send_keys("Spoke on the phone; carers' centre booked.")
    browser.find_element(By.ID, "close").click()
    wait(browser, lambda d: "resolved" in d.find_element(By.ID, "state").text)
    with services.db.session() as s:
        closed = s.scalars(select(Handoff).where(Handoff.id == second)).one()
        assert (closed.state, closed.outcome) == ("closed", "resolved")
