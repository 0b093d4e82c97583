"""The gateway on the real Rasa server, and a carer texting it."""

from __future__ import annotations

import pytest

from bot import services as services_mod
from bot.messaging.worker import Dispatcher
from tests.e2e.chat import Chat


@pytest.fixture
def live(settings, rasa_server, twilio, clock):
    """The gateway wired to the real Rasa server, on the test's FakeClock."""
    built = services_mod.build(rasa_server.settings_for(settings), clock=clock)
    dispatcher = Dispatcher(built, threads=2, poll_seconds=0.2).start()
    yield built
    dispatcher.stop()
    built.db.engine.dispose()


@pytest.fixture
def carer(live, phone, twilio):
    def make(number: str = "+447700900301") -> Chat:
        return Chat(live, phone, twilio, number)
    return make
