"""A dialogue model that answers briefly, so even a 10,000-character message gets a sendable reply."""

from __future__ import annotations

import pytest

from tests.fakes import ScriptedRasa


class ShortRasa(ScriptedRasa):
    def reply(self, sender, text, metadata):
        super().reply(sender, text, metadata)
        return [{"text": f"got: {text[:40]}"}]


@pytest.fixture
def rasa():
    return ShortRasa()
