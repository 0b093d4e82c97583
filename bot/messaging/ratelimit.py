"""Flood control per number: a token bucket in the database, so every gateway process shares it.

A message is always stored. Within the bucket it is handled at once; past it, it waits its turn
(next_attempt_at), so the carer's worker is released and other carers are not held up; past the
backlog it is kept but not answered ("collapsed"). The carer gets one short notice per hour at most.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, bindparam, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from bot.messaging import outbox
from bot.parts import Core
from bot.timing.clock import as_utc
from bot.db import insert_now
from bot.models import Base, Carer, Conversation, Message, MessageKind, MessageState

log = logging.getLogger("carertext.ratelimit")

NOTICE_EVERY = timedelta(hours=1)


class RateBucket(Base):
    """One number's place in the queue: when its next message may be handled (GCRA's theoretical time)."""

    __tablename__ = "rate_buckets"

    carer_id: Mapped[int] = mapped_column(ForeignKey("carers.id"), primary_key=True)
    next_free_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    notice_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def _new_bucket(session: Session, carer_id: int, now: datetime, new_carer: bool) -> RateBucket:
    """A number's first bucket. A carer made in this same unit of work is nobody else's yet: no savepoint."""
    if new_carer:
        bucket = RateBucket(carer_id=carer_id, next_free_at=now)
        insert_now(session, bucket)
        return bucket
    try:
        with session.begin_nested():
            bucket = RateBucket(carer_id=carer_id, next_free_at=now)
            session.add(bucket)
    except IntegrityError:  # a twin request made it a moment ago
        bucket = session.scalars(select(RateBucket).where(RateBucket.carer_id == carer_id)).one()
    return bucket


BUCKET_MOVED = (update(RateBucket).where(RateBucket.carer_id == bindparam("p_carer_id"))
                .values(next_free_at=bindparam("p_at")).execution_options(synchronize_session=False))


def _move(session: Session, bucket: RateBucket, at: datetime) -> None:
    """The number's next free moment; a stored bucket by Core, which costs a third of the ORM's flush."""
    if inspect(bucket).persistent:
        session.connection().execute(BUCKET_MOVED, {"p_carer_id": bucket.carer_id, "p_at": at})
        set_committed_value(bucket, "next_free_at", at)
    else:
        bucket.next_free_at = at


def admit(session: Session, services: Core, message: Message, bucket: RateBucket | None,
          new_carer: bool = False) -> str:
    """Place a message being stored in its number's queue: "now", "later" or "collapsed".

    bucket: the number's, read with the carer row locked (bot.messaging.inbox), so two messages of one number take
    turns; None when it has none yet."""
    carer_id = message.carer_id
    assert carer_id is not None  # an inbound message is its carer's from the start (inbox._message)
    settings, now = services.settings, services.clock.now()
    interval = timedelta(seconds=60.0 / max(settings.rate_limit_per_minute, 1))
    burst = interval * max(settings.rate_limit_burst, 1)
    if bucket is None:
        bucket = _new_bucket(session, carer_id, now, new_carer)
    due = max(as_utc(bucket.next_free_at), now) + interval
    delay = due - now - burst
    if delay <= timedelta(0):
        _move(session, bucket, due)
        return "now"
    if delay.total_seconds() > settings.rate_limit_backlog_seconds:
        # Kept for the record and the console, never sent to the dialogue: the queue is long enough.
        message.state, message.error_note, message.processed_at = MessageState.DONE, "collapsed", now
        verdict = "collapsed"
    else:
        bucket.next_free_at = due
        message.next_attempt_at = now + delay
        verdict = "later"
    if bucket.notice_at is None or now - as_utc(bucket.notice_at) >= NOTICE_EVERY:
        bucket.notice_at = now
        carer = session.get_one(Carer, carer_id)
        conv = session.get(Conversation, message.conversation_id)
        if not carer.opted_out:
            session.add(message)
            session.flush()  # the notice points at the message: it needs its id
            outbox.enqueue(session, now, carer=carer, conversation=conv, kind=MessageKind.SYSTEM,
                           body=services.catalogue.text("too_many_messages", carer.language),
                           in_reply_to=message.id, channel=message.channel)
        log.warning("number slowed down carer=%s", carer.public_id[:8])
    return verdict
