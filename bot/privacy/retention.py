"""Retention: personal data is erased RETENTION_DAYS after a carer's case closes.

A case is closed when no handoff is open or held by a person; it closed at the carer's last contact
(their last message, or when they were first seen). The scheduler calls erase_expired(services) daily.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select

from bot.parts import Core
from bot.privacy import erasure
from bot.models import Carer, Handoff

log = logging.getLogger("carertext.retention")


def erase_expired(services: Core, limit: int = 500) -> int:
    """Erase carers whose case closed more than RETENTION_DAYS ago; finish left-over erasures; return how many."""
    now = services.clock.now()
    cutoff = now - timedelta(days=services.settings.retention_days)
    open_case = select(Handoff.carer_id).where(Handoff.state != "closed")
    with services.db.session() as session:
        due = list(session.scalars(
            select(Carer.id)
            .where(Carer.erased_at.is_(None), Carer.id.not_in(open_case),
                   func.coalesce(Carer.last_inbound_at, Carer.created_at) < cutoff)
            .order_by(Carer.id).limit(limit)
        ))
    failed = 0
    for carer_id in due:
        try:
            erasure.erase_carer(services, carer_id, actor="retention", reason="retention")
        except Exception as exc:  # one carer's failure must not leave every later carer unerased
            failed += 1
            log.error("retention could not erase carer id=%s: %s", carer_id, type(exc).__name__)
    with services.db.session() as session:
        # A goodbye that never settled must not keep the number; a tracker that was down is retried.
        for carer in session.scalars(select(Carer).where(Carer.erased_at.is_not(None), Carer.phone.is_not(None),
                                                         Carer.erased_at < now - timedelta(days=1))):
            carer.phone = None
        for tally in session.scalars(select(erasure.Erasure).where(erasure.Erasure.tracker_erased.is_(False))):
            senders = [s for s in (tally.rasa_senders or "").split(",") if s]
            tally.tracker_erased = erasure.erase_tracker(services.settings, senders)
    erased = len(due) - failed
    if due:
        log.info("retention erased %s carers, %s failed and are tried again tomorrow", erased, failed)
    return erased
