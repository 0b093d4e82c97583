"""Council staff who use the duty console: workers, roles, passwords, and the append-only audit log."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import JSON, Boolean, Connection, ForeignKey, Integer, String, Table, Text, event, select
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column

from bot.logs import mask
from bot.parts import Core
from bot.timing.clock import as_utc
from bot.models import Base

log = logging.getLogger("carertext.staff")

DUTY_WORKER, TEAM_MANAGER, ADMIN = "duty_worker", "team_manager", "admin"
ROLES = (DUTY_WORKER, TEAM_MANAGER, ADMIN)
# What each role may do; a duty worker works the queue but never reads who looked at what.
PERMISSIONS = {
    "work_queue": {DUTY_WORKER, TEAM_MANAGER, ADMIN},
    "act_on_any_handoff": {TEAM_MANAGER, ADMIN},
    "read_audit": {TEAM_MANAGER, ADMIN},
    "manage_staff": {ADMIN},
}
LOCK_AFTER_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)

hasher = PasswordHasher()
_dummy_hash: list[str] = []


def _dummy() -> str:
    """A hash to verify against when the e-mail is unknown, so a wrong address costs as long as a wrong password."""
    if not _dummy_hash:
        _dummy_hash.append(hasher.hash("not-a-real-password"))
    return _dummy_hash[0]


class Worker(Base):
    """A person who signs in to the console: a duty worker, a team manager or an admin."""

    __tablename__ = "staff_workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[Optional[datetime]]
    # Stored in the session cookie; bumped on logout so an old cookie stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    last_login_at: Mapped[Optional[datetime]]

    def may(self, permission: str) -> bool:
        """Whether this worker's role allows `permission`."""
        return self.active and self.role in PERMISSIONS.get(permission, set())


class AuditEntry(Base):
    """One view of a carer's record or one action, never changed or deleted once written."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    worker_id: Mapped[Optional[int]] = mapped_column(ForeignKey("staff_workers.id"), index=True)
    action: Mapped[str] = mapped_column(String(48))
    carer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("carers.id"), index=True)
    handoff_id: Mapped[Optional[int]] = mapped_column(ForeignKey("handoffs.id"))
    # Ids and outcomes only: never a phone number or the carer's words.
    detail: Mapped[Optional[str]] = mapped_column(String(200))


class EligibilityDecision(Base):
    """A worker's decision on a completed assessment, with the reasons the carer is owed in writing."""

    __tablename__ = "eligibility_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"), index=True)
    carer_id: Mapped[int] = mapped_column(ForeignKey("carers.id"), index=True)
    conversation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("conversations.id"))
    eligible: Mapped[bool] = mapped_column(Boolean)
    # The worker's own view of the three reg 3 conditions and the outcomes not achieved.
    conditions: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    reasons: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[int] = mapped_column(ForeignKey("staff_workers.id"))
    decided_at: Mapped[datetime]


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _append_only(mapper: Mapper[AuditEntry], connection: Connection, target: AuditEntry) -> None:
    raise PermissionError("the audit log is append-only")


# The ORM guard above stops our own code; these triggers stop anyone else with a connection too, so the trail
# a council relies on cannot be edited quietly. The same statements are in the migration that adds them.
APPEND_ONLY_TRIGGERS = {
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ],
    "sqlite": [
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    ],
}


@event.listens_for(AuditEntry.__table__, "after_create")
def _append_only_in_the_database(table: Table, connection: Connection, **_: object) -> None:
    for statement in APPEND_ONLY_TRIGGERS.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


def hash_password(password: str) -> str:
    return hasher.hash(password)


def create_worker(session: Session, now: datetime, *, email: str, password: str, role: str,
                  display_name: str | None = None) -> Worker:
    """Add a console user with an argon2-hashed password."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 12:
        raise ValueError("a password needs at least 12 characters")
    email = email.strip().lower()
    if not email or "@" not in email:
        raise ValueError("an e-mail address is needed")
    worker = Worker(email=email, display_name=(display_name or email.split("@")[0])[:120], role=role,
                    password_hash=hash_password(password), active=True, failed_logins=0, session_version=1,
                    created_at=now)
    session.add(worker)
    session.flush()
    return worker


def create_admin(services: Core, email: str, password: str) -> int:
    """Create the first admin (the `carertext create-admin` command); returns the worker id."""
    now = services.clock.now()
    with services.db.session() as session:
        worker = create_worker(session, now, email=email, password=password, role=ADMIN)
        audit(session, now, None, "create_admin", detail=f"worker={worker.id}")
        log.info("admin created worker=%s", worker.id)
        return worker.id


def authenticate(session: Session, now: datetime, email: str, password: str) -> Worker | None:
    """The worker for these credentials, or None; repeated failures lock the account for a while."""
    worker = session.scalars(select(Worker).where(Worker.email == email.strip().lower())).first()
    if worker is None or not worker.active:
        try:
            hasher.verify(_dummy(), password)
        except VerificationError:
            pass
        audit(session, now, None, "login_failed")
        return None
    locked = as_utc(worker.locked_until)
    if locked is not None and locked > now:
        audit(session, now, worker, "login_refused_locked")
        return None
    try:
        hasher.verify(worker.password_hash, password)
    except (VerificationError, InvalidHashError):
        worker.failed_logins += 1
        if worker.failed_logins >= LOCK_AFTER_FAILURES:
            worker.locked_until, worker.failed_logins = now + LOCK_FOR, 0
        audit(session, now, worker, "login_failed")
        return None
    if hasher.check_needs_rehash(worker.password_hash):
        worker.password_hash = hash_password(password)
    worker.failed_logins, worker.locked_until, worker.last_login_at = 0, None, now
    audit(session, now, worker, "login")
    return worker


def signed_in(session: Session, worker_id: object, session_version: object) -> Worker | None:
    """The worker a console session belongs to, if that session is still valid."""
    if not isinstance(worker_id, int) or not isinstance(session_version, int):
        return None
    worker = session.get(Worker, worker_id)
    if worker is None or not worker.active or worker.session_version != session_version:
        return None
    return worker


def sign_out(session: Session, now: datetime, worker: Worker) -> None:
    """End every session of this worker: old cookies no longer match."""
    worker.session_version += 1
    audit(session, now, worker, "logout")


def audit(session: Session, now: datetime, worker: Worker | None, action: str, *, carer_id: int | None = None,
          handoff_id: int | None = None, detail: str | None = None) -> None:
    """Append one line to the audit log, in the same transaction as what it records."""
    # A number in the detail would make the line unerasable: the log is append-only, so mask it first.
    detail = mask(detail)[:200] if detail else None
    session.add(AuditEntry(at=now, worker_id=worker.id if worker is not None else None, action=action[:48],
                           carer_id=carer_id, handoff_id=handoff_id, detail=detail))


def read_audit(session: Session, now: datetime, reader: Worker, *, carer_id: int | None = None,
               limit: int = 500) -> list[tuple[AuditEntry, str]]:
    """The newest audit lines with who did each; only a team manager or admin may read them."""
    if not reader.may("read_audit"):
        raise PermissionError("reading the audit log needs a team manager")
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if carer_id is not None:
        query = query.where(AuditEntry.carer_id == carer_id)
    entries = list(session.scalars(query))
    names = {w.id: w.display_name for w in session.scalars(select(Worker))}
    audit(session, now, reader, "read_audit", carer_id=carer_id)
    return [(e, names.get(e.worker_id, "-") if e.worker_id else "-") for e in entries]


def list_workers(session: Session) -> list[Worker]:
    return list(session.scalars(select(Worker).order_by(Worker.email)))
