"""Reports: weekly assessments, median days, where carers stop, handoff waits, delivery by channel, opt-outs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.council import reports
from bot.models import Answer, Carer, Conversation, Handoff, Message

MON = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)


def test_report_tables_from_seeded_records(services, clock):
    clock.set(MON + timedelta(days=30))
    with services.db.session() as s:
        carers = [Carer(phone=f"+4477009000{i}", channel="sms" if i % 2 else "whatsapp", created_at=MON)
                  for i in range(4)]
        s.add_all(carers)
        s.flush()
        carers[3].opted_out, carers[3].opted_out_at = True, MON + timedelta(days=8)
        done = Conversation(carer_id=carers[0].id, assessment_status="completed", started_at=MON,
                            completed_at=MON + timedelta(days=4), last_message_at=MON + timedelta(days=4))
        quiet = Conversation(carer_id=carers[1].id, assessment_status="in_progress", started_at=MON,
                             last_message_at=MON + timedelta(days=1))
        s.add_all([done, quiet])
        s.flush()
        s.add_all([Answer(conversation_id=quiet.id, question_id="hours_caring", status="answered", answered_at=MON),
                   Answer(conversation_id=quiet.id, question_id="own_health", status="answered",
                          answered_at=MON + timedelta(days=1))])
        s.add_all([Handoff(carer_id=carers[0].id, reason="safeguarding", urgency="urgent", created_at=MON,
                           claimed_at=MON + timedelta(minutes=6)),
                   Handoff(carer_id=carers[1].id, reason="safeguarding", urgency="urgent", created_at=MON,
                           claimed_at=MON + timedelta(minutes=10))])
        for channel, status in (("sms", "delivered"), ("sms", "undelivered"), ("whatsapp", "read")):
            s.add(Message(direction="out", channel=channel, state="sent", delivery_status=status, created_at=MON))
    with services.db.session() as s:
        found = reports.build(s, clock.now(), MON - timedelta(days=1), MON + timedelta(days=31), 14)
    assert found["weekly"].rows == [["2026-11-02", 2, 1, 1]]
    assert found["median_days_to_complete"] == 4.0
    assert found["stops"].rows == [["own_health", 1]]
    assert found["handoffs"].rows == [["safeguarding", "urgent", 2, 8.0, 10.0]]
    assert found["delivery"].rows == [["sms", 2, 1, 1, 50.0], ["whatsapp", 1, 1, 0, 100.0]]
    assert found["opt_outs"].rows == [["2026-11-09", 1]]
