"""Handoffs from the worker's side: triggers, the queue and its targets, claim, reply, hand back, close,
decide, the worksheet, and the audit log."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.duty import handoff as handoffs
from bot.duty import staff, worksheet
from bot.models import Answer, Carer, Conversation, Handoff, Message
from bot.messaging.worker import Dispatcher

PASSWORD = "correct horse battery"


def make_worker(services, email="duty@council.example", role=staff.DUTY_WORKER, name=None) -> int:
    with services.db.session() as s:
        return staff.create_worker(s, services.clock.now(), email=email, password=PASSWORD, role=role,
                                   display_name=name).id


def seed_case(services, phone, text="I want to end my life", number="+447700900123", channel="sms") -> int:
    """A carer texts; the message is handled; returns the handoff id it opened."""
    phone(number, channel).send(text)
    Dispatcher(services).run_once()
    with services.db.session() as s:
        return s.scalars(select(Handoff.id).order_by(Handoff.id.desc())).first()


def worker(s, worker_id) -> staff.Worker:
    return s.get(staff.Worker, worker_id)


def rasa_says(rasa, *items):
    """Make the scripted Rasa answer every message with these items."""
    rasa.reply = lambda sender, text, metadata: list(items)


# -- triggers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason,urgency", [("asked_for_person", "soon"), ("not_understood", "soon")])
def test_rasa_handoff_events_open_a_handoff(phone, services, rasa, reason, urgency):
    rasa_says(rasa, {"custom": {"say": "handed_back"}}, {"custom": {"event": "handoff", "reason": reason}})
    handoff_id = seed_case(services, phone, "blah")
    with services.db.session() as s:
        h = s.get(Handoff, handoff_id)
        assert (h.reason, h.urgency, h.state) == (reason, urgency, "open")


def test_completed_assessment_opens_a_routine_review(phone, services, rasa):
    rasa_says(rasa, {"custom": {"event": "completed"}})
    handoff_id = seed_case(services, phone, "that's everything")
    with services.db.session() as s:
        assert (s.get(Handoff, handoff_id).reason, s.get(Handoff, handoff_id).urgency) == ("completed", "routine")


# -- the queue -----------------------------------------------------------------------------------


def _handoff(s, now, reason, number):
    carer = Carer(phone=number, channel="sms", created_at=now)
    s.add(carer)
    s.flush()
    conv = Conversation(carer_id=carer.id, started_at=now)
    s.add(conv)
    s.flush()
    return handoffs.open_handoff(s, now, carer=carer, conversation=conv, reason=reason)


def test_queue_sorts_by_urgency_then_waiting_time_and_shows_targets(services, clock):
    with services.db.session() as s:
        routine = _handoff(s, clock.now(), "completed", "+447700900001").id
    clock.advance(hours=1)
    with services.db.session() as s:
        soon_old = _handoff(s, clock.now(), "asked_for_person", "+447700900002").id
    clock.advance(minutes=5)
    with services.db.session() as s:
        soon_new = _handoff(s, clock.now(), "not_understood", "+447700900003").id
        urgent = _handoff(s, clock.now(), "safeguarding", "+447700900004").id
    clock.advance(minutes=16)
    with services.db.session() as s:
        items = handoffs.queue(s, clock.now(), services.settings)
    assert [i.id for i in items] == [urgent, soon_old, soon_new, routine]
    first = items[0]
    assert (first.target_label, first.waited_label, first.overdue) == ("15 min", "16 min", True)
    assert items[1].target_label == "1 working day" and not items[1].overdue
    assert items[3].target_label == "5 days"


def test_soon_target_counts_working_days(services):
    from bot.timing import working_days

    days = working_days.for_settings(services.settings)
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)
    assert days.add(friday, 1) == datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)
    # Christmas Eve: Christmas Day, the weekend and Boxing Day's substitute Monday are not working days.
    assert days.add(datetime(2026, 12, 24, 16, 0, tzinfo=timezone.utc), 1) == \
        datetime(2026, 12, 29, 16, 0, tzinfo=timezone.utc)
    # Counted on the council's clock: 23:30 UTC on a May Friday is Saturday in London, and the Monday is a
    # bank holiday, so the day after is Tuesday 00:30 London time.
    assert days.add(datetime(2027, 5, 28, 23, 30, tzinfo=timezone.utc), 1) == \
        datetime(2027, 5, 31, 23, 30, tzinfo=timezone.utc)


def test_a_soon_handoff_over_christmas_is_not_shown_overdue_on_a_bank_holiday(services, clock):
    clock.set(datetime(2026, 12, 24, 16, 0, tzinfo=timezone.utc))
    with services.db.session() as s:
        _handoff(s, clock.now(), "asked_for_person", "+447700900002")
    clock.set(datetime(2026, 12, 28, 17, 0, tzinfo=timezone.utc))  # Boxing Day's substitute
    with services.db.session() as s:
        assert not handoffs.queue(s, clock.now(), services.settings)[0].overdue
    clock.set(datetime(2026, 12, 29, 16, 1, tzinfo=timezone.utc))  # one working day after Christmas Eve
    with services.db.session() as s:
        assert handoffs.queue(s, clock.now(), services.settings)[0].overdue


def test_a_council_elsewhere_gives_its_own_bank_holidays(tmp_path, services):
    from bot.timing import working_days

    scotland = tmp_path / "scotland.txt"
    scotland.write_text("# St Andrew's Day\n2026-11-30 St Andrew's Day\n")
    days = working_days.for_settings(services.settings.with_(bank_holidays_file=str(scotland)))
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)
    assert days.add(friday, 1) == datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)
    scotland.write_text("30/11/2026\n")
    with pytest.raises(ValueError, match="line 1"):
        working_days.read_holidays(scotland)


# -- claiming ------------------------------------------------------------------------------------


def test_two_workers_claiming_at_once_one_wins(phone, services):
    handoff_id = seed_case(services, phone)
    ids = [make_worker(services, f"w{n}@council.example") for n in range(2)]
    barrier, results = threading.Barrier(2), {}

    def take(worker_id):
        with services.db.session() as s:
            w = worker(s, worker_id)
            barrier.wait()
            results[worker_id] = handoffs.claim(s, services.clock.now(), handoff_id, w)

    threads = [threading.Thread(target=take, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == [False, True]
    winner = next(i for i, won in results.items() if won)
    with services.db.session() as s:
        h = s.get(Handoff, handoff_id)
        assert (h.state, h.claimed_by) == ("claimed", winner)


def test_claim_silences_the_bot_and_the_carers_messages_are_kept(phone, services, rasa):
    rasa_says(rasa, {"custom": {"event": "handoff", "reason": "asked_for_person"}})
    handoff_id = seed_case(services, phone, "can I talk to a real person")
    w = make_worker(services)
    with services.db.session() as s:
        assert handoffs.claim(s, services.clock.now(), handoff_id, worker(s, w))
    calls = []
    rasa.reply = lambda *a: calls.append(a) or []
    phone().send("hello? are you there")
    Dispatcher(services).run_once()
    assert calls == []
    with services.db.session() as s:
        assert s.scalars(select(Conversation)).one().state == "person"
        case = handoffs.view(s, services.clock.now(), services.settings, handoff_id, worker(s, w))
        assert [m.body for m in case.messages if m.direction == "in"][-1] == "hello? are you there"


# -- acting on a handoff -------------------------------------------------------------------------


def test_reply_goes_out_on_the_carers_channel_through_the_outbox(phone, services, twilio):
    handoff_id = seed_case(services, phone, "i wanna end it all", number="+447700900555", channel="whatsapp")
    w = make_worker(services)
    with services.db.session() as s:
        handoffs.claim(s, services.clock.now(), handoff_id, worker(s, w))
    with services.db.session() as s:
        carer_id = handoffs.reply(s, services.clock.now(), handoff_id, worker(s, w), "Hi, this is Sam from the team.")
    services.outbox.send_for_carer(carer_id)
    sent = [m for m in twilio.messages() if m["body"] == "Hi, this is Sam from the team."]
    assert [m["to"] for m in sent] == ["whatsapp:+447700900555"]
    with services.db.session() as s:
        assert s.scalars(select(Message).where(Message.kind == "worker")).one().state == "sent"


def test_only_the_holder_or_a_manager_may_act(phone, services):
    handoff_id = seed_case(services, phone)
    holder, other = make_worker(services, "a@council.example"), make_worker(services, "b@council.example")
    manager = make_worker(services, "m@council.example", role=staff.TEAM_MANAGER)
    with services.db.session() as s:
        handoffs.claim(s, services.clock.now(), handoff_id, worker(s, holder))
    with services.db.session() as s, pytest.raises(handoffs.HandoffError):
        handoffs.reply(s, services.clock.now(), handoff_id, worker(s, other), "hello")
    with services.db.session() as s:
        handoffs.reply(s, services.clock.now(), handoff_id, worker(s, manager), "hello")


def test_hand_back_tells_the_carer_and_resumes_the_assessment(phone, services, twilio, rasa):
    handoff_id = seed_case(services, phone, "I keep thinking about killing myself")
    w = make_worker(services)
    triggered = []
    rasa.trigger = lambda sender, intent, entities=None: triggered.append(intent) or [
        {"custom": {"say": "q.hours_week"}}]
    with services.db.session() as s:
        handoffs.claim(s, services.clock.now(), handoff_id, worker(s, w))
    handoffs.hand_back(services, handoff_id, w)
    assert triggered == ["EXTERNAL_resume"]
    bodies = [m["body"] for m in twilio.messages()]
    assert bodies[-2] == services.catalogue.text("handed_back")
    assert bodies[-1] == services.catalogue.text("q.hours_week")
    with services.db.session() as s:
        assert s.scalars(select(Conversation)).one().state == "bot"
        h = s.get(Handoff, handoff_id)
        assert (h.state, h.outcome) == ("closed", "handed_back")


def test_close_with_an_outcome_and_a_note(phone, services):
    handoff_id = seed_case(services, phone)
    w = make_worker(services)
    with services.db.session() as s:
        handoffs.claim(s, services.clock.now(), handoff_id, worker(s, w))
    with services.db.session() as s, pytest.raises(handoffs.HandoffError):
        handoffs.close(s, services.clock.now(), handoff_id, worker(s, w), "made_up", "")
    with services.db.session() as s:
        handoffs.close(s, services.clock.now(), handoff_id, worker(s, w), "safeguarding_referral", "Rang her; s.42")
    with services.db.session() as s:
        h = s.get(Handoff, handoff_id)
        assert (h.state, h.outcome, h.note) == ("closed", "safeguarding_referral", "Rang her; s.42")
        assert handoffs.queue(s, services.clock.now(), services.settings) == []


# -- a completed assessment ------------------------------------------------------------------------


ANSWERS = {
    "name": ("Pat", "Pat"), "cared_for_who": ("my mum", "my mum"), "caring_tasks": ("everything", "everything really"),
    "hours_week": (70, "10 a day"), "nights": ("yes", "yes most nights"), "mental_health": (5, "5"),
    "physical_health": (3, "3"), "child_care": ("not_apply", "4"), "home": ("hard", "it is hard"),
    "nutrition": ("fine", "1"), "relationships": ("cannot", "I never see my friends now"),
    "recreation": ("cannot", "I can't manage it"), "willing_to_continue": ("yes_with_help", "2"),
}


def complete(services, phone, rasa) -> int:
    rasa_says(rasa, {"custom": {"event": "completed"}})
    handoff_id = seed_case(services, phone, "done")
    with services.db.session() as s:
        conv = s.scalars(select(Conversation)).one()
        for qid, (value, raw) in ANSWERS.items():
            s.add(Answer(conversation_id=conv.id, question_id=qid, value=value, raw=raw, status="answered",
                         answered_at=services.clock.now()))
    return handoff_id


def test_worksheet_drafts_each_condition_and_outcome_quoting_the_carer(phone, services, rasa):
    handoff_id = complete(services, phone, rasa)
    with services.db.session() as s:
        sheet = worksheet.for_conversation(s, s.get(Handoff, handoff_id).conversation_id)
    by_tag = {o.tag: o for o in sheet.outcomes}
    assert len(sheet.outcomes) == 8 and len(sheet.conditions) == 3
    assert by_tag["reg3_relationships"].suggestion == "unable"
    assert "I never see my friends now" in [e.raw for e in by_tag["reg3_relationships"].evidence]
    assert by_tag["reg3_home"].suggestion == "check"
    assert by_tag["reg3_nutrition"].suggestion == "able"
    assert by_tag["reg3_child_care"].suggestion == "not_applicable"
    assert by_tag["reg3_work_training"].suggestion == "no_answer"
    assert [c.suggestion for c in sheet.conditions] == ["likely_met", "likely_met", "likely_met"]


def test_worksheet_shows_each_reading_of_unable_and_never_drops_an_unclear_answer(phone, services, rasa):
    handoff_id = complete(services, phone, rasa)
    with services.db.session() as s:
        conv_id = s.get(Handoff, handoff_id).conversation_id
        for qid, value, raw, status in [
            ("home", None, "dunno / depends on the day really", "unclear"),
            ("community", "with_help", "only if my sister drives me", "answered"),
            ("work_status", "gave_up", "I had to give up my job to look after him", "answered"),
            ("caring_for_others", "distress", "my dad too, it wears me out", "answered"),
            ("willing_to_continue", "no_choice", "I have no choice really", "changed"),
        ]:
            s.add(Answer(conversation_id=conv_id, question_id=qid, value=value, raw=raw, status=status,
                         answered_at=services.clock.now()))
    with services.db.session() as s:
        sheet = worksheet.for_conversation(s, conv_id)
    by_tag = {o.tag: o for o in sheet.outcomes}
    home = by_tag["reg3_home"]
    assert home.suggestion == "unclear" and [(e.raw, e.unclear) for e in home.evidence] == [
        ("dunno / depends on the day really", True)]
    assert by_tag["reg3_community"].suggestion == "unable" and "only with help" in by_tag["reg3_community"].why[0]
    assert by_tag["reg3_work_training"].suggestion == "unable"
    assert by_tag["reg3_work_training"].why == ["gave up work to care"]
    assert by_tag["reg3_caring_for_others"].suggestion == "check"
    willing = [e for e in sheet.conditions[2].evidence if e.question_id == "willing_to_continue"]
    assert [e.raw for e in willing] == ["I have no choice really"]


def test_decision_is_recorded_and_the_carer_told_in_plain_words(phone, services, rasa, twilio):
    handoff_id = complete(services, phone, rasa)
    w = make_worker(services)
    with services.db.session() as s:
        handoffs.claim(s, services.clock.now(), handoff_id, worker(s, w))
    with services.db.session() as s, pytest.raises(handoffs.HandoffError):
        handoffs.decide(s, services.clock.now(), services.catalogue, handoff_id, worker(s, w), eligible=True,
                        reasons="")
    with services.db.session() as s:
        carer_id = handoffs.decide(s, services.clock.now(), services.catalogue, handoff_id, worker(s, w),
                                   eligible=True, reasons="Unable to maintain relationships; mental health at risk.")
    services.outbox.send_for_carer(carer_id)
    assert twilio.messages()[-1]["body"] == services.catalogue.text("decision_eligible")
    with services.db.session() as s:
        d = s.scalars(select(staff.EligibilityDecision)).one()
        assert (d.eligible, d.decided_by) == (True, w)
        assert s.get(Handoff, handoff_id).outcome == "eligible"


# -- staff and the audit log ----------------------------------------------------------------------


def test_every_view_and_action_is_audited_and_only_a_manager_reads_it(phone, services):
    handoff_id = seed_case(services, phone)
    duty, manager = make_worker(services), make_worker(services, "m@council.example", role=staff.TEAM_MANAGER)
    now = services.clock.now()
    with services.db.session() as s:
        handoffs.view(s, now, services.settings, handoff_id, worker(s, duty))
        handoffs.claim(s, now, handoff_id, worker(s, duty))
        handoffs.close(s, now, handoff_id, worker(s, duty), "resolved", "")
    with services.db.session() as s, pytest.raises(PermissionError):
        staff.read_audit(s, now, worker(s, duty))
    with services.db.session() as s:
        actions = [e.action for e, _ in staff.read_audit(s, now, worker(s, manager))]
    assert actions[::-1] == ["view_handoff", "claim", "close"]


def test_audit_log_is_append_only(services):
    with services.db.session() as s:
        staff.audit(s, services.clock.now(), None, "test")
    with services.db.session() as s:
        entry = s.scalars(select(staff.AuditEntry)).one()
        entry.action = "changed"
        with pytest.raises(PermissionError):
            s.flush()
        s.rollback()
    with services.db.session() as s:
        s.delete(s.scalars(select(staff.AuditEntry)).one())
        with pytest.raises(PermissionError):
            s.flush()
        s.rollback()



def test_the_database_itself_refuses_to_change_or_delete_the_audit_log(services):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with services.db.session() as s:
        staff.audit(s, services.clock.now(), None, "view_case")
    # Not through our models: as anyone with a database connection would try it.
    for statement in ("UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log"):
        with services.db.engine.connect() as conn:
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(statement))
    with services.db.session() as s:
        assert [e.action for e in s.scalars(select(staff.AuditEntry))] == ["view_case"]


def test_create_admin_hashes_with_argon2_and_signs_in(services):
    admin_id = staff.create_admin(services, "Admin@Council.example", PASSWORD)
    with services.db.session() as s:
        admin = s.get(staff.Worker, admin_id)
        assert admin.role == staff.ADMIN and admin.password_hash.startswith("$argon2")
        assert PASSWORD not in admin.password_hash
        assert staff.authenticate(s, services.clock.now(), "admin@council.example", PASSWORD).id == admin_id
        assert staff.authenticate(s, services.clock.now(), "admin@council.example", "wrong password!!") is None


def test_repeated_wrong_passwords_lock_the_account(services):
    w = make_worker(services)
    with services.db.session() as s:
        for _ in range(staff.LOCK_AFTER_FAILURES):
            staff.authenticate(s, services.clock.now(), "duty@council.example", "not the password")
        assert staff.authenticate(s, services.clock.now(), "duty@council.example", PASSWORD) is None
    services.clock.advance(minutes=16)
    with services.db.session() as s:
        assert staff.authenticate(s, services.clock.now(), "duty@council.example", PASSWORD).id == w
