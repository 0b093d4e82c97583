"""Import every module that defines tables, so Base.metadata knows them all (Alembic, tests)."""

from bot import models  # noqa: F401
from bot.duty import staff  # noqa: F401  (console workers, audit log, eligibility decisions)
from bot.timing import reminders  # noqa: F401  (reminders, reminder preferences)
from bot.messaging import ratelimit  # noqa: F401  (per-number flood control)
from bot.privacy import erasure  # noqa: F401  (erasure tally)
from bot.council import broadcasts  # noqa: F401  (broadcasts, recipients, pacers, carer tags and postcodes)
