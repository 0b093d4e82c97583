"""Alembic environment: the database URL comes from the caller or DATABASE_URL."""

from alembic import context

from bot.config import Settings
from bot.db import make_engine
from bot import all_models  # noqa: F401  (every table registered on Base)
from bot.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
