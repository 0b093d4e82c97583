"""Erasure and retention: afterwards no table (ours, other features', Rasa's tracker) holds the number or the words."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from bot.council import broadcasts
from bot.privacy import erasure, retention
from bot.models import Answer, Carer, Handoff, Message
from bot.duty.staff import AuditEntry, EligibilityDecision, audit, create_worker
from bot.messaging.worker import Dispatcher

SECRET = "my husband hits me when he drinks"
NUMBER = "+447700900401"
OTHER = "+447700900402"


def dump(url: str) -> str:
    """Every value of every column of every table, as one string to search."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            out = []
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    out.append(" ".join(str(v) for v in row))
            return "\n".join(out)
    finally:
        engine.dispose()


def make_tracker(path, senders) -> str:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.begin() as conn:  # Rasa's SQLTrackerStore table, as far as erasure cares
        conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), "
                          "type_name VARCHAR(255), timestamp FLOAT, intent_name VARCHAR(255), "
                          "action_name VARCHAR(255), data TEXT)"))
        for sender, words in senders.items():
            conn.execute(text("INSERT INTO events (sender_id, type_name, data) VALUES (:s, 'user', :d)"),
                         {"s": sender, "d": f'{{"text": "{words}"}}'})
    engine.dispose()
    return url


@pytest.fixture
def seeded(services, phone, tmp_path):
    """Two carers who have talked, answered, been handed off and decided on; a tracker store with both."""
    phone(NUMBER, "whatsapp").send(SECRET, ProfileName="Jo Secretname")
    phone(OTHER).send("other carer words")
    Dispatcher(services).run_once()
    now = services.clock.now()
    with services.db.session() as s:
        carer = s.scalars(select(Carer).where(Carer.phone == NUMBER)).one()
        carer.contact_window = "after 7, call " + NUMBER
        conv = carer.conversations[0]
        msg = s.scalars(select(Message).where(Message.carer_id == carer.id, Message.direction == "in")).one()
        s.add(Answer(conversation_id=conv.id, question_id="q.health", value={"text": SECRET}, raw=SECRET,
                     status="answered", answered_at=now, message_id=msg.id))
        handoff = Handoff(carer_id=carer.id, conversation_id=conv.id, reason="safeguarding", urgency="urgent",
                          risk_flags=["abuse"], note="Spoke to Jo on " + NUMBER, created_at=now)
        s.add(handoff)
        s.flush()
        worker = create_worker(s, now, email="duty@example.org", password="a long password 1", role="admin")
        s.flush()
        s.add(EligibilityDecision(handoff_id=handoff.id, carer_id=carer.id, conversation_id=conv.id, eligible=True,
                                  conditions={"why": SECRET}, reasons="Because " + SECRET, decided_by=worker.id,
                                  decided_at=now))
        s.add(AuditEntry(at=now, worker_id=worker.id, action="view_case", carer_id=carer.id, detail="handoff"))
        broadcasts.set_postcode(s, carer.id, "SW1A 1ZZ")
        broadcasts.add_tag(s, carer.id, "secrettag_young_carer")
        carer_id, senders = carer.id, {conv.rasa_sender: SECRET}
        other = s.scalars(select(Carer).where(Carer.phone == OTHER)).one()
        senders[other.conversations[0].rasa_sender] = "other carer words"
    tracker = make_tracker(tmp_path / "tracker.db", senders)
    services.settings = services.settings.with_(rasa_tracker_db_url=tracker)
    return carer_id, tracker


def test_admin_erase_leaves_no_number_or_words_anywhere_and_keeps_the_counts(services, seeded):
    carer_id, tracker = seeded
    before = dump(services.db.url)
    assert NUMBER.lstrip("+") in before and SECRET in before
    with services.db.session() as s:
        n_out = s.scalar(select(func.count()).select_from(Message).where(Message.carer_id == carer_id,
                                                                         Message.direction == "out"))
    assert erasure.erase_carer(services, carer_id, actor="staff:1") is True
    after, rasa_after = dump(services.db.url), dump(tracker)
    assert "SW1A1ZZ" in before and "secrettag_young_carer" in before
    for needle in (NUMBER.lstrip("+"), SECRET, "Secretname", "SW1A1ZZ", "secrettag_young_carer"):
        assert needle not in after and needle not in rasa_after
    # The other carer is untouched, in both stores.
    assert OTHER.lstrip("+") in after and "other carer words" in after and "other carer words" in rasa_after
    with services.db.session() as s:  # anonymous counts for reports
        assert s.scalar(select(func.count()).select_from(Message).where(Message.carer_id == carer_id)) == 1 + n_out
        handoffs = select(func.count()).select_from(Handoff).where(Handoff.carer_id == carer_id)
        assert s.scalar(handoffs) == 2  # the crisis and ours
        tally = s.scalars(select(erasure.Erasure)).one()
        assert (tally.reason, tally.messages_in, tally.messages_out, tally.tracker_erased) == ("admin", 1, n_out, True)
        assert s.get(Carer, carer_id).erased_at is not None


def test_the_same_number_texting_again_after_erasure_is_a_new_carer(services, seeded, phone, twilio):
    carer_id, _ = seeded
    erasure.erase_carer(services, carer_id, actor="staff:1")
    phone(NUMBER).send("hello again")
    Dispatcher(services).run_once()
    with services.db.session() as s:
        carer = s.scalars(select(Carer).where(Carer.phone == NUMBER)).one()
        assert carer.id != carer_id
    assert twilio.messages(to=NUMBER)[-1]["body"] == "got: hello again"


def test_erasing_an_unknown_carer_is_a_clear_no(services):
    assert erasure.erase_carer(services, 999, actor="staff:1") is False


def test_a_tracker_store_that_is_down_is_retried_by_the_retention_job(services, seeded, tmp_path):
    carer_id, tracker = seeded
    services.settings = services.settings.with_(rasa_tracker_db_url=f"sqlite:///{tmp_path}/missing/x.db")
    erasure.erase_carer(services, carer_id, actor="staff:1")
    with services.db.session() as s:
        assert s.scalars(select(erasure.Erasure.tracker_erased)).one() is False
    services.settings = services.settings.with_(rasa_tracker_db_url=tracker)
    retention.erase_expired(services)
    assert SECRET not in dump(tracker)


def test_retention_erases_closed_cases_after_the_period_and_keeps_open_ones(services, phone, clock):
    services.settings = services.settings.with_(retention_days=30)
    phone("+447700900411").send("quiet carer words")
    phone("+447700900412").send("carer with a worker")
    Dispatcher(services).run_once()
    with services.db.session() as s:
        held = s.scalars(select(Carer).where(Carer.phone == "+447700900412")).one()
        s.add(Handoff(carer_id=held.id, reason="asked_for_person", urgency="soon", created_at=clock.now()))
    clock.advance(days=29)
    assert retention.erase_expired(services) == 0
    clock.advance(days=2)
    assert retention.erase_expired(services) == 1
    everything = dump(services.db.url)
    assert "447700900411" not in everything and "quiet carer words" not in everything
    assert "447700900412" in everything  # a person still holds that case
    assert retention.erase_expired(services) == 0


# -- a carer's own "delete my data", through the real Rasa server ----------------------------------------


@pytest.mark.rasa
def test_delete_my_data_through_rasa_erases_everywhere_after_the_goodbye(settings, rasa_server, twilio):
    from bot import services as services_mod
    from bot.timing.clock import SystemClock
    from tests.conftest import Phone
    from webhooks import create_app

    tracker = "sqlite:///" + rasa_server.env["RASA_TRACKER_DB"]
    live = services_mod.build(rasa_server.settings_for(settings, rasa_tracker_db_url=tracker),
                              clock=SystemClock())
    dispatcher = Dispatcher(live, threads=1, poll_seconds=0.1).start()
    try:
        p = Phone(create_app(services=live).test_client(), live.settings, "+447700900421")
        said = ["hi", "yes", "Jo Uniquename", "delete my data", "yes"]
        for n, words in enumerate(said):
            p.send(words)
            deadline = time.monotonic() + 30
            while len(twilio.messages(to=p.address)) <= n and time.monotonic() < deadline:
                time.sleep(0.05)
        deadline = time.monotonic() + 30
        done = live.catalogue.text("erase_done")
        while done not in [m["body"] for m in twilio.messages(to=p.address)] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert twilio.messages(to=p.address)[-1]["body"] == done  # the goodbye still reached them
        deadline = time.monotonic() + 10
        while "447700900421" in dump(live.db.url) and time.monotonic() < deadline:
            time.sleep(0.05)
        ours, rasas = dump(live.db.url), dump(tracker)
        for needle in ["447700900421", "Uniquename", "delete my data"]:
            assert needle not in ours and needle not in rasas
        with live.db.session() as s:
            assert s.scalars(select(erasure.Erasure.reason)).one() == "carer"
            assert s.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 5
    finally:
        dispatcher.stop()
        live.db.engine.dispose()


def test_an_audit_line_that_names_the_number_is_masked_and_erasure_still_succeeds(services, seeded):
    carer_id, _ = seeded
    with services.db.session() as s:
        audit(s, services.clock.now(), None, "phoned_carer", carer_id=carer_id, detail="rang " + NUMBER + " back")
    assert erasure.erase_carer(services, carer_id, actor="staff:1") is True
    after = dump(services.db.url)
    assert NUMBER.lstrip("+") not in after and "rang [number] back" in after  # kept, and kept anonymous


def test_retention_carries_on_past_a_carer_it_cannot_erase(services, phone, clock):
    services.settings = services.settings.with_(retention_days=30)
    for number in ("+447700900421", "+447700900422"):
        phone(number).send("words of " + number)
    Dispatcher(services).run_once()
    with services.db.session() as s:
        stuck = s.scalars(select(Carer.id).where(Carer.phone == "+447700900421")).one()
    with services.db.engine.begin() as conn:  # the database itself refuses to change that one carer
        if conn.dialect.name == "postgresql":
            conn.execute(text("CREATE FUNCTION refuse_carer() RETURNS trigger LANGUAGE plpgsql AS "
                              "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"))
            conn.execute(text(f"CREATE TRIGGER refuse_carer BEFORE UPDATE ON carers FOR EACH ROW "
                              f"WHEN (OLD.id = {stuck}) EXECUTE FUNCTION refuse_carer()"))
        else:
            conn.execute(text(f"CREATE TRIGGER refuse_carer BEFORE UPDATE ON carers WHEN OLD.id = {stuck} "
                              f"BEGIN SELECT RAISE(ABORT, 'refused'); END"))
    clock.advance(days=31)
    assert retention.erase_expired(services) == 1
    everything = dump(services.db.url)
    assert "words of +447700900422" not in everything  # the carer after the failure was still erased
    assert "447700900421" in everything  # and the one that failed is tried again on the next run
