"""The phone simulator in real Chromium: WhatsApp choices show as the buttons a phone shows, and a tap goes
back to the gateway as Twilio sends it, read as the numbered choice."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from bot.messaging import whatsapp_buttons
from bot.adapters.twilio_content import TwilioContent
from bot.models import Message
from bot.messaging.worker import Dispatcher
from tests.bot.messaging.test_whatsapp_buttons import SETS, ChoosingRasa
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.browser


@pytest.fixture
def rasa():
    return ChoosingRasa()  # a yes/no question whatever the carer says


@pytest.fixture
def settings(settings):
    return settings.with_(simulator=True)


def inbound(services) -> list[str]:
    with services.db.session() as session:
        return list(session.scalars(select(Message.body).where(Message.direction == "in").order_by(Message.id)))


def wait(driver, condition, timeout=15):
    return WebDriverWait(driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(condition)


def test_a_whatsapp_question_shows_buttons_and_a_tap_answers_it(browser, live_server, app, services, twilio):
    from datetime import datetime, timezone

    services.clock.set(datetime.now(timezone.utc))  # inside the WhatsApp window by the real time too
    # The simulator signs for, and posts to, the address it is served on.
    app.config["SETTINGS"] = services.settings = services.settings.with_(public_base_url=live_server)
    with services.db.session() as session:
        whatsapp_buttons.sync(session, TwilioContent(ACCOUNT_SID, AUTH_TOKEN, twilio.url), services.catalogue,
                              services.clock.now(), SETS)
    dispatcher = Dispatcher(services).start()
    try:
        browser.get(live_server + "/simulator")
        browser.find_element(By.CSS_SELECTOR, "input[name=channel][value=whatsapp]").click()
        browser.find_element(By.ID, "body").send_keys("hello")
        browser.find_element(By.CSS_SELECTOR, "#compose button[type=submit]").click()
        buttons = "#conversation li.out .choices.buttons button"
        # Read inside wait(): the page redraws as the message's status moves on, and an element read a
        # moment ago may have been replaced.
        titles = wait(browser, lambda d: [b.text for b in d.find_elements(By.CSS_SELECTOR, buttons)] or None)
        assert titles == [services.catalogue.text("choice.yes"), services.catalogue.text("choice.no")]
        question = services.catalogue.text("carry_on_ask")
        assert wait(browser, lambda d: question in d.find_element(By.CSS_SELECTOR, "#conversation li.out").text)

        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, buttons)[1].click() or True)
        wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#conversation li.in")) == 2)
        wait(browser, lambda d: len(inbound(services)) == 2)
        assert inbound(services) == ["hello", f"2. {titles[1]}"]  # the tap, read as the choice the carer saw
    finally:
        dispatcher.stop()
