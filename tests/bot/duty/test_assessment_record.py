"""The structured record of an assessment, from the answers table and questions.yml."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.duty.assessment import assessment_record, load_questions
from bot.db import Database
from bot.models import Answer, Carer, Conversation

T0 = datetime(2026, 3, 2, 23, 40, tzinfo=timezone.utc)
REG3 = ["reg3_child_care", "reg3_caring_for_others", "reg3_home", "reg3_nutrition", "reg3_relationships",
        "reg3_work_training", "reg3_community", "reg3_recreation"]


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.engine.dispose()


def add(session, conv, qid, value, raw, status="answered", minutes=0, changed=False):
    session.add(Answer(conversation_id=conv.id, question_id=qid, value=value, raw=raw, status=status,
                       changed=changed, answered_at=T0 + timedelta(minutes=minutes)))


@pytest.fixture
def conversation_id(db):
    with db.session() as s:
        carer = Carer(phone="+447700900555", created_at=T0)
        s.add(carer)
        s.flush()
        conv = Conversation(carer_id=carer.id, started_at=T0, assessment_status="completed",
                            completed_at=T0 + timedelta(days=2))
        s.add(conv)
        s.flush()
        add(s, conv, "consent", True, "yes")
        add(s, conv, "cared_for_who", "my mum", "my mum", minutes=1)
        add(s, conv, "hours_week", 40, "about forty hrs a wk", minutes=2, changed=True)
        add(s, conv, "hours_week", 60, "60", status="changed", minutes=30)
        add(s, conv, "nights", None, "skip", status="skipped", minutes=31)
        add(s, conv, "recreation", "cannot", "never any time", minutes=32)
        add(s, conv, "what_would_help", "a break", "a break", minutes=33)
        s.commit()
        return conv.id


def test_every_question_in_order_with_its_tag_time_and_state(db, conversation_id):
    with db.session() as s:
        rec = assessment_record(s, conversation_id)
    assert [a["question_id"] for a in rec["answers"]] == [q["id"] for q in load_questions()]
    a = {x["question_id"]: x for x in rec["answers"]}
    assert rec["status"] == "completed" and rec["consent"]["given"] is True
    assert a["hours_week"]["value"] == 60 and a["hours_week"]["changed"] is True
    assert a["hours_week"]["history"] == [{"value": 40, "raw": "about forty hrs a wk", "status": "answered",
                                           "answered_at": (T0 + timedelta(minutes=2)).isoformat()}]
    assert a["hours_week"]["answered_at"] == (T0 + timedelta(minutes=30)).isoformat()
    assert a["nights"]["skipped"] is True and a["nights"]["value"] is None
    assert a["cared_for_who"]["changed"] is False and a["cared_for_who"]["text_key"] == "q.cared_for_who"
    assert "reg3_recreation" in a["recreation"]["serves"]
    assert a["name"]["asked"] is False and a["name"]["status"] == "not_asked"
    assert rec["coverage"]["reg3_recreation"] == ["recreation"]
    assert "nights" not in rec["coverage"]["reg3_health"]  # skipped is no evidence


def test_every_reg3_outcome_is_served_by_a_question():
    served = {tag for q in load_questions() for tag in q["serves"]}
    assert set(REG3) <= served
    assert {"s10_5_able_willing", "s10_5_wellbeing", "s10_6_work", "s10_7_involve", "s10_8_other_support"} <= served


def test_unknown_conversation_is_an_error(db):
    with db.session() as s, pytest.raises(LookupError):
        assessment_record(s, 999)
