"""Import every module that defines tables, so Base.metadata knows them all (Alembic, tests)."""

from bot import models  # noqa: F401
