"""How late the last of many reminders due at once is handed to the outbox (one scheduler tick).

    TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/reminders_lag.py 10000

Builds a throwaway schema (PostgreSQL) or file (SQLite, without the URL), makes N carers each with a
nudge due now, runs the tick without sending (the outbox's pace is Twilio's, not ours) and prints a table.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

from bot import all_models  # noqa: E402,F401
from bot import services as services_mod  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.models import Base, Carer, Conversation, Message  # noqa: E402
from bot.timing.reminders import Reminder, tick  # noqa: E402


class NoSender:
    """Nothing is sent in this measurement."""

    def send(self, outgoing, status_callback):
        raise AssertionError("not sending in the benchmark")

    def recent_to(self, to, since_iso):
        return []


def database(base: str) -> tuple[str, callable]:
    if not base:
        path = Path(tempfile.mkdtemp()) / "bench.db"
        return f"sqlite:///{path}", lambda: None
    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}{urlencode({'options': f'-csearch_path={schema}'})}", drop


def main(count: int) -> None:
    url, drop = database(os.environ.get("TEST_POSTGRES_URL", ""))
    try:
        settings = Settings(database_url=url, quiet_hours="", reminder_batch=500)
        services = services_mod.build(settings, sender=NoSender(), rasa=object())
        Base.metadata.create_all(services.db.engine)
        now = datetime.now(timezone.utc)
        earlier = now - timedelta(days=1)
        with services.db.session() as session:
            session.execute(insert(Carer), [
                {"public_id": uuid.uuid4().hex, "phone": f"+4477{n:08d}", "channel": "sms", "language": "en",
                 "opted_out": False, "created_at": earlier, "last_inbound_at": earlier} for n in range(count)])
            ids = session.scalars(select(Carer.id).order_by(Carer.id)).all()
            session.execute(insert(Conversation), [
                {"carer_id": i, "rasa_sender": uuid.uuid4().hex, "state": "bot", "assessment_status": "in_progress",
                 "current_section": "health", "progress_done": 0, "progress_total": 0, "turns_in_session": 0,
                 "sessions_started": 0, "started_at": earlier} for i in ids])
            convs = session.execute(select(Conversation.id, Conversation.carer_id)).all()
        due = datetime.now(timezone.utc)
        with services.db.session() as session:
            session.execute(insert(Reminder), [
                {"carer_id": c, "conversation_id": v, "kind": "nudge1", "anchor_at": earlier, "planned_at": due,
                 "due_at": due, "state": "pending", "created_at": earlier} for v, c in convs])
        started = time.perf_counter()
        result = tick(services, send=False)
        took = time.perf_counter() - started
        with services.db.session() as session:
            last = session.scalar(select(func.max(Reminder.handed_at)))
            first = session.scalar(select(func.min(Reminder.handed_at)))
            queued = session.scalar(select(func.count()).select_from(Message).where(Message.kind == "reminder"))
        last = last if last.tzinfo else last.replace(tzinfo=timezone.utc)
        first = first if first.tzinfo else first.replace(tzinfo=timezone.utc)
        print("| database | due at once | handed | in outbox | first late by | last late by | per second |")
        print("|---|---|---|---|---|---|---|")
        print(f"| {services.db.engine.dialect.name} | {count} | {result.handed} | {queued} | "
              f"{(first - due).total_seconds():.2f} s | {(last - due).total_seconds():.2f} s | {count / took:.0f} |")
        services.db.engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000)
