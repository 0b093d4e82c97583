"""What a module handed the services may ask of them, for modules services.build itself imports."""

from __future__ import annotations

from typing import Protocol

from bot.catalogue import Catalogue
from bot.config import Settings
from bot.db import Database
from bot.timing.clock import Clock


class Core(Protocol):
    """The settings, the clock, the database and the words: every part below the composition root."""

    # Read-only, so services whose fields are a narrower type still fit.
    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def db(self) -> Database: ...

    @property
    def catalogue(self) -> Catalogue: ...
