"""Who a broadcast reaches: carers chosen by status, language, channel, postcode or tag, and the cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, exists, func, or_, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.messaging import outbox
from bot.catalogue import is_gsm7, segments
from bot.models import AssessmentStatus, Carer, Conversation
from bot.timing.quiet_hours import QuietHours, contact_window, is_allowed, next_allowed, parse_duration
from bot.council.broadcasts.models import (ASSESSMENT_STATUSES, AUDIENCE_KEYS, CHANNELS, BroadcastError, CarerPostcode,
                                          CarerTag)




def normal_postcode(text: str) -> str:
    return "".join((text or "").split()).upper()


def set_postcode(session: Session, carer_id: int, postcode: str) -> None:
    """Record a carer's postcode (from the council's records)."""
    row = session.get(CarerPostcode, carer_id)
    if row is None:
        session.add(CarerPostcode(carer_id=carer_id, postcode=normal_postcode(postcode)))
    else:
        row.postcode = normal_postcode(postcode)


def add_tag(session: Session, carer_id: int, tag: str) -> None:
    """Label a carer; labelling twice is a no-op."""
    tag = tag.strip().lower()
    if session.get(CarerTag, (carer_id, tag)) is None:
        session.add(CarerTag(carer_id=carer_id, tag=tag))


# -- the audience ----------------------------------------------------------------------------------


def clean_audience(raw: Mapping[str, object]) -> dict[str, str]:
    """Keep the known filters with a value; refuse values the audience cannot mean."""
    out: dict[str, str] = {}
    for key in AUDIENCE_KEYS:
        value = str(raw.get(key) or "").strip()
        if not value or value == "any":
            continue
        if key == "status" and value not in ASSESSMENT_STATUSES:
            raise BroadcastError(f"assessment status must be one of {', '.join(ASSESSMENT_STATUSES)}")
        if key == "channel" and value not in CHANNELS:
            raise BroadcastError("channel must be sms or whatsapp")
        out[key] = normal_postcode(value) if key == "postcode" else value.lower() if key == "tag" else value
    return out


def parse_audience(text: str) -> dict[str, str]:
    """Read the command line's "status=in_progress,channel=sms" (or "all")."""
    if text.strip().lower() in ("", "all"):
        return {}
    pairs: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in AUDIENCE_KEYS:
            raise BroadcastError(f"audience parts look like key=value with key in {', '.join(AUDIENCE_KEYS)}")
        pairs[key.strip()] = value.strip()
    return clean_audience(pairs)


def audience_ids(settings: Settings, now: datetime, audience: Mapping[str, object]) -> Select[int]:
    """A select of the ids of carers this audience reaches: consenting (not opted out, not erased) only."""
    latest = (select(Conversation.carer_id, func.max(Conversation.id).label("conv_id"))
              .group_by(Conversation.carer_id).subquery())
    query = (select(Carer.id)
             .outerjoin(latest, latest.c.carer_id == Carer.id)
             .outerjoin(Conversation, Conversation.id == latest.c.conv_id)
             .where(Carer.opted_out.is_(False), Carer.phone.is_not(None), Carer.erased_at.is_(None)))
    status = audience.get("status")
    if status:
        review_from = now - parse_duration(settings.review_after)
        if status == "not_started":
            query = query.where(or_(Conversation.id.is_(None),
                                    Conversation.assessment_status == AssessmentStatus.NOT_STARTED))
        elif status == "in_progress":
            query = query.where(Conversation.assessment_status == AssessmentStatus.IN_PROGRESS)
        elif status == "completed":
            query = query.where(Conversation.assessment_status == AssessmentStatus.COMPLETED,
                                or_(Conversation.completed_at.is_(None), Conversation.completed_at > review_from))
        else:  # review_due: completed long enough ago that the yearly review is owed
            query = query.where(Conversation.assessment_status == AssessmentStatus.COMPLETED,
                                Conversation.completed_at <= review_from)
    if audience.get("language"):
        query = query.where(Carer.language == audience["language"])
    if audience.get("channel"):
        query = query.where(Carer.channel == audience["channel"])
    if audience.get("postcode"):
        query = query.where(exists().where(CarerPostcode.carer_id == Carer.id,
                                           CarerPostcode.postcode.startswith(audience["postcode"])))
    if audience.get("tag"):
        query = query.where(exists().where(CarerTag.carer_id == Carer.id, CarerTag.tag == audience["tag"]))
    return query


@dataclass
class Preview:
    """Reach and cost before sending: carers by channel and the SMS segments the council pays for."""

    carers: int = 0
    sms: int = 0
    whatsapp: int = 0
    whatsapp_template: int = 0
    segments_each: int = 0
    unicode: bool = False
    sms_segments: int = 0
    seconds_at_rate: float = 0.0
    own_hours: int = 0  # carers who gave the hours that suit them
    waiting_for_hours: int = 0  # of those, outside their hours now: theirs go when the hours open
    last_hours_open: datetime | None = None  # when the last of those hours opens, if sent now (council's time)
    by_channel: dict[str, int] = field(default_factory=dict)


def preview(session: Session, settings: Settings, now: datetime, message: str,
            audience: Mapping[str, object]) -> Preview:
    """How many carers this reaches, what it costs in SMS segments, and how many wait for their own hours."""
    ids = audience_ids(settings, now, audience).subquery()
    window_open = Carer.last_inbound_at >= now - outbox.WHATSAPP_WINDOW
    rows = session.execute(
        select(Carer.channel, func.count(), func.sum(case((window_open, 1), else_=0)))
        .where(Carer.id.in_(select(ids.c.id))).group_by(Carer.channel)
    ).all()
    p = Preview(segments_each=segments(message) if message else 0, unicode=bool(message) and not is_gsm7(message))
    for channel, count, open_count in rows:
        p.by_channel[channel] = count
        p.carers += count
        if channel == "whatsapp":
            p.whatsapp += count
            p.whatsapp_template += count - int(open_count or 0)
        else:
            p.sms += count
    p.sms_segments = p.sms * p.segments_each
    rate = max(settings.send_rate_per_second, 1e-9)
    # Each sender is paced on its own, so the slower of the two decides how long it takes.
    p.seconds_at_rate = max(p.sms, p.whatsapp) / rate
    quiet, no_quiet, zone = QuietHours.parse(settings.quiet_hours), QuietHours.parse(""), ZoneInfo(settings.timezone)
    # A few phrasings cover most carers, so each is read once (contact_window caches it).
    for words, count in session.execute(
        select(Carer.contact_window, func.count())
        .where(Carer.id.in_(select(ids.c.id)), Carer.contact_window.is_not(None)).group_by(Carer.contact_window)
    ):
        window = contact_window(words)
        if window is None:
            continue
        p.own_hours += count
        if not is_allowed(now, no_quiet, window, zone):
            p.waiting_for_hours += count
            opens = next_allowed(now, quiet, window, zone).astimezone(zone)
            p.last_hours_open = max(opens, p.last_hours_open or opens)
    return p


