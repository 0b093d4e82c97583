"""Engine and session scope; the caller owns the session (one per request, one per job)."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar, cast

from sqlalchemy import Insert, Table, create_engine, event, insert, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from sqlalchemy.sql.dml import ReturningInsert


T = TypeVar("T")
log = logging.getLogger("carertext.db")
# Session key: this unit of work has written (flushed) something, so its transaction holds locks. Set by an
# after_flush listener, the one place that sees every flush: session.info is SQLAlchemy's place for such a flag.
WROTE = "carertext.wrote"


def has_written(session: Session) -> bool:
    """Whether this unit of work has sent a write to the database yet (and so holds row locks)."""
    return bool(session.info.get(WROTE))


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE through Session.execute changed."""
    # Session.execute is typed to return Result, but for DML without RETURNING it is a CursorResult
    return cast(CursorResult[Any], result).rowcount


# (table, columns given, dialect when ON CONFLICT is used) -> the statement
_inserts: dict[tuple[str, tuple[str, ...], str | None], ReturningInsert[Any]] = {}
_upserts: dict[str, Callable[[Table], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_now(session: Session, row: object, unless_taken: str | None = None) -> bool:
    """INSERT one new ORM object at once with Core, and keep it in the session as that row, clean.

    On the webhook's path the ORM's flush costs three times the statement it sends; this sends the same
    statement (the unset columns take their defaults here, so the object holds what the row holds).
    unless_taken: a unique column; when a row already holds the value, nothing is written and False is
    returned (the object stays out of the session)."""
    table = inspect(row).mapper.local_table
    values: dict[str, object] = {}
    for column in table.columns:
        value = getattr(row, column.key)
        if value is None and column.server_default is not None:  # the object could not know what the row holds
            raise ValueError(f"insert_now cannot fill {table.name}.{column.key} (a server default)")
        if value is None and column.default is not None:
            value = column.default.arg(None) if column.default.is_callable else column.default.arg
            setattr(row, column.key, value)
        elif value is None and not column.primary_key:
            setattr(row, column.key, None)  # known, not expired: reading it later costs no query
        if value is not None:
            values[column.key] = value
    dialect = session.get_bind().dialect.name
    key = (table.name, tuple(values), unless_taken and dialect)
    statement = _inserts.get(key)
    if statement is None:
        chosen: Insert
        if unless_taken:  # PostgreSQL's and SQLite's INSERT ... ON CONFLICT DO NOTHING
            chosen = _upserts[dialect](table).on_conflict_do_nothing(index_elements=[unless_taken])
        else:
            chosen = insert(table)
        statement = _inserts[key] = chosen.returning(*table.primary_key.columns)
    pk = session.connection().execute(statement, values).first()
    if pk is None:
        return False
    for column, value in zip(table.primary_key.columns, pk, strict=True):
        setattr(row, column.key, value)
    make_transient_to_detached(row)
    session.add(row)
    return True


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite gets WAL and a busy timeout so threads can share it."""
    # hide_parameters: a statement's values are carers' numbers and words, and its errors reach the logs.
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    # No ping before every checkout: it is a round trip on every unit of work, three on each reply. A
    # connection found dead (PostgreSQL restarted) invalidates the whole pool at once; the unit of work
    # that met it is retried (Database.run) or fails into the caller's own retry (workers, Twilio).
    return create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800, hide_parameters=True)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self.sessions, "after_flush", lambda session, _context: session.info.__setitem__(WROTE, True))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commit on success, roll back on error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def run(self, work: Callable[[Session], T], attempts: int = 3) -> T:
        """work(session) as one unit of work, run again when the database connection turned out dead."""
        for attempt in range(attempts):
            try:
                with self.session() as session:
                    return work(session)
            except DBAPIError as exc:
                if not exc.connection_invalidated or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"
