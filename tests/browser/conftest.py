"""Fixtures for the console in real Chromium: the app served on a real port, and a headless browser."""

from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: the browser tests are about the pages, not the database (tests/bot covers both)."""
    from tests.conftest import _create_tables

    url = f"sqlite:///{tmp_path / 'carertext.db'}"
    _create_tables(url)
    return url


@pytest.fixture
def settings(settings):
    return settings.with_(console_poll_seconds=1, duty_phone="+447700900999")


@pytest.fixture
def live_server(app):
    """The console served by werkzeug on a free port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def browser(tmp_path):
    """Debian's Chromium, headless, with a fresh profile and nothing phoning home."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs /usr/bin/chromium (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()
