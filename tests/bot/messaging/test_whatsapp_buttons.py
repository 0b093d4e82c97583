"""WhatsApp buttons for choices: Content made once through the Content API (the stand-in), sent inside the window
with the question as its variable, numbered text everywhere else, and a tap read back as the choice."""

from __future__ import annotations

import json
import pytest
from sqlalchemy import select, update

from bot.messaging import whatsapp_buttons as buttons
from bot.adapters.twilio_content import ContentFailed, TwilioContent
from bot.catalogue import Catalogue
from bot.models import Carer, ChoiceButtons, Conversation, Message
from bot.timing.reminders import allow_sms_fallback
from bot.messaging.worker import Dispatcher
from standin import content as standin_content
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.fakes import ScriptedRasa

WA = "+447700900123"
YES_NO = ("choice.yes", "choice.no")
FOUR = ("choice.fine", "choice.hard", "choice.cannot", "choice.not_apply")
SETS = [YES_NO, ("choice.fine", "choice.hard", "choice.cannot"), FOUR]


class ChoosingRasa(ScriptedRasa):
    """Asks a question with choices whatever the carer says, the way the assessment's actions do."""

    def __init__(self):
        super().__init__()
        self.ask = {"say": "carry_on_ask", "choices": list(YES_NO)}

    def reply(self, sender, text, metadata):
        super().reply(sender, text, metadata)
        return [{"custom": dict(self.ask)}]


@pytest.fixture
def rasa():
    return ChoosingRasa()


@pytest.fixture
def content_api(twilio):
    return TwilioContent(ACCOUNT_SID, AUTH_TOKEN, twilio.url)


def make_buttons(services, api, sets=SETS, catalogue=None):
    with services.db.session() as session:
        return buttons.sync(session, api, catalogue or services.catalogue, services.clock.now(), sets)


def content_posts(twilio):
    return [r for r in twilio.state.requests if r.method == "POST" and r.path == "/v1/Content"]


def message_posts(twilio, to):
    return [r for r in twilio.state.requests if r.method == "POST" and r.form.get("To") == [to]]


def outbound(services):
    with services.db.session() as session:
        return session.scalars(select(Message).where(Message.direction == "out").order_by(Message.id)).all()


# -- making the Content ------------------------------------------------------------------------------------------


def test_the_command_makes_one_content_per_choice_set_and_language(services, content_api, twilio):
    outcomes = make_buttons(services, content_api)
    assert [(o.key, o.status, o.content_type) for o in outcomes] == [
        ("choice.yes,choice.no", "created", "twilio/quick-reply"),
        ("choice.fine,choice.hard,choice.cannot", "created", "twilio/quick-reply"),
        (",".join(FOUR), "created", "twilio/list-picker"),  # four choices: a list, not buttons
    ]
    # Every request passed the stand-in's checks against Twilio's spec for the Content API.
    assert [r.verdict for r in content_posts(twilio)] == ["accepted"] * 3
    made = twilio.state.contents[outcomes[0].content_sid]
    assert made["types"] == {"twilio/quick-reply": {"body": "{{1}}", "actions": [
        {"type": "QUICK_REPLY", "title": "Yes", "id": "1"}, {"type": "QUICK_REPLY", "title": "No", "id": "2"}]}}
    picker = twilio.state.contents[outcomes[2].content_sid]["types"]["twilio/list-picker"]
    assert [(i["id"], i["item"]) for i in picker["items"]] == [
        ("1", "No problem"), ("2", "It is hard"), ("3", "I can't manage it"), ("4", "Does not apply")]
    assert picker["button"] == services.catalogue.text("buttons.list_button")
    with services.db.session() as session:
        rows = session.scalars(select(ChoiceButtons).order_by(ChoiceButtons.id)).all()
    assert [(r.language, r.choices, r.content_sid) for r in rows] == [
        ("en", o.key, o.content_sid) for o in outcomes]


def test_running_the_command_again_changes_nothing(services, content_api, twilio):
    first = make_buttons(services, content_api)
    again = make_buttons(services, content_api)
    assert [o.status for o in again] == ["kept"] * 3
    assert [o.content_sid for o in again] == [o.content_sid for o in first]
    assert len(content_posts(twilio)) == 3 and len(twilio.state.contents) == 3


def test_content_gone_from_twilio_is_made_again(services, content_api, twilio):
    first = make_buttons(services, content_api)
    twilio.state.contents.pop(first[0].content_sid)  # deleted in Twilio's console, or a restarted stand-in
    again = make_buttons(services, content_api)
    assert [o.status for o in again] == ["created", "kept", "kept"]
    assert again[0].content_sid != first[0].content_sid and again[0].content_sid in twilio.state.contents


def test_content_twilio_holds_already_is_adopted_not_made_twice(services, content_api, twilio):
    first = make_buttons(services, content_api)
    with services.db.session() as session:  # a run that created the Content and then died before its commit
        session.query(ChoiceButtons).delete()
    again = make_buttons(services, content_api)
    assert [(o.status, o.content_sid) for o in again] == [("found", o.content_sid) for o in first]
    assert len(twilio.state.contents) == 3


def test_a_changed_catalogue_text_makes_a_new_content(services, content_api, twilio, tmp_path):
    first = make_buttons(services, content_api, sets=[YES_NO])
    (tmp_path / "en").mkdir()
    changed = Catalogue(tmp_path)
    changed.texts["en"] = dict(services.catalogue.texts["en"], **{"choice.yes": "Yes please"})
    [again] = make_buttons(services, content_api, sets=[YES_NO], catalogue=changed)
    assert again.status == "created" and again.content_sid != first[0].content_sid
    with services.db.session() as session:
        assert session.scalars(select(ChoiceButtons.content_sid)).all() == [again.content_sid]


def test_a_choice_set_whatsapp_cannot_show_stays_text(services, content_api, twilio):
    eleven = tuple(["choice.yes", "choice.no", "choice.fine", "choice.hard", "choice.cannot", "choice.not_apply",
                    "choice.any_time", "choice.daytime", "choice.evenings", "choice.weekends", "choice.not_sure"])
    [outcome] = make_buttons(services, content_api, sets=[eleven])
    assert outcome.status == "unfit" and content_posts(twilio) == []


def test_every_choice_set_of_the_assessment_fits_whatsapp():
    sets = buttons.choice_sets()
    outcomes = ("choice.fine", "choice.with_help", "choice.distress", "choice.at_risk", "choice.cannot",
                "choice.not_apply")
    assert YES_NO in sets and ("choice.yes_go_on", "choice.no_not_now") in sets and outcomes in sets
    cat = Catalogue()
    for language in cat.languages:
        for choices in sets:
            made = buttons.design(cat, language, choices)
            assert standin_content.content_rules({"types": made.types, "variables": made.variables}) == []
            assert standin_content.whatsapp_session_problems({"types": made.types}) == []


def test_twilio_refusing_the_content_is_reported(services, twilio):
    wrong = TwilioContent(ACCOUNT_SID, "not-the-token", twilio.url)
    with pytest.raises(ContentFailed) as refused:
        make_buttons(services, wrong)
    assert refused.value.status == 401
    with services.db.session() as session:
        assert session.scalars(select(ChoiceButtons)).all() == []


# -- replies -----------------------------------------------------------------------------------------------------


def test_a_whatsapp_reply_with_choices_goes_out_as_buttons(services, content_api, phone, twilio):
    [yes_no, *_] = make_buttons(services, content_api)
    phone(WA, "whatsapp").send("hello")
    Dispatcher(services).run_once()
    [reply] = outbound(services)
    question = services.catalogue.text("carry_on_ask")
    assert reply.content_sid == yes_no.content_sid
    assert reply.content_variables == {"1": question}
    assert reply.body == services.catalogue.render("carry_on_ask", "en", choices=list(YES_NO))  # the record
    [sent] = message_posts(twilio, f"whatsapp:{WA}")
    assert sent.verdict == "accepted" and "Body" not in sent.form
    assert sent.form["ContentSid"] == [yes_no.content_sid]
    assert json.loads(sent.form["ContentVariables"][0]) == {"1": question}
    # The stand-in renders the Content as Twilio does: the question above the buttons.
    assert [m["body"] for m in twilio.messages(f"whatsapp:{WA}")] == [question]


def test_a_reply_with_buttons_leaves_before_anything_of_the_turn_is_written(services, content_api, phone, twilio,
                                                                            rasa):
    from sqlalchemy import event

    make_buttons(services, content_api)
    phone(WA, "whatsapp").send("hello")
    statements, answered_at, sent_at = [], [], []
    event.listen(services.db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    reply, send = rasa.reply, services.outbox.sender.send
    rasa.reply = lambda *a: (reply(*a), answered_at.append(len(statements)))[0]
    services.outbox.sender.send = lambda *a: (sent_at.append(len(statements)), send(*a))[1]
    Dispatcher(services).run_once()
    [sent] = message_posts(twilio, f"whatsapp:{WA}")
    assert "ContentSid" in sent.form
    # Between Rasa's answer and the Twilio call only the Content is read: the turn is written after the send.
    between = [s.split()[0].upper() for s in statements[answered_at[0]:sent_at[0]]]
    assert between == ["SELECT"]
    assert [m.state for m in outbound(services)] == ["sent"]


def test_buttons_twilio_took_behind_a_5xx_are_not_sent_again(services, content_api, phone, twilio, clock):
    from datetime import datetime, timezone

    clock.set(datetime.now(timezone.utc))  # the stand-in stamps messages with the real time
    make_buttons(services, content_api)
    twilio.set_faults(server_error=1, accepted_anyway=True)
    phone(WA, "whatsapp").send("hello")
    for _ in range(6):
        Dispatcher(services).run_once()
        clock.advance(seconds=301)
    # Twilio's copy is the rendered question, not our numbered text: still recognised as this message.
    assert [m["body"] for m in twilio.messages(f"whatsapp:{WA}")] == [services.catalogue.text("carry_on_ask")]
    [reply] = outbound(services)
    assert reply.state == "sent" and reply.twilio_sid == twilio.messages(f"whatsapp:{WA}")[0]["sid"]


def test_a_list_goes_out_for_four_choices(services, content_api, phone, twilio, rasa):
    *_, four = make_buttons(services, content_api)
    rasa.ask = {"say": "q.child_care", "choices": list(FOUR)}
    phone(WA, "whatsapp").send("hello")
    Dispatcher(services).run_once()
    [reply] = outbound(services)
    assert reply.content_sid == four.content_sid
    assert [r.verdict for r in message_posts(twilio, f"whatsapp:{WA}")] == ["accepted"]


def test_sms_keeps_the_numbered_text(services, content_api, phone, twilio):
    make_buttons(services, content_api)
    phone(WA, "sms").send("hello")
    Dispatcher(services).run_once()
    [reply] = outbound(services)
    numbered = services.catalogue.render("carry_on_ask", "en", choices=list(YES_NO))
    assert reply.content_sid is None and reply.content_variables is None
    assert [m["body"] for m in twilio.messages(WA)] == [numbered]
    assert numbered.endswith("\n1. Yes\n2. No")


@pytest.mark.parametrize("why", ["not made", "switched off", "catalogue changed"])
def test_without_a_current_content_whatsapp_gets_the_numbered_text(services, content_api, phone, twilio, why):
    if why != "not made":
        make_buttons(services, content_api)
    if why == "switched off":
        services.settings = services.settings.with_(whatsapp_buttons=False)
    if why == "catalogue changed":  # the command has not been run since a text changed
        with services.db.session() as session:
            session.execute(update(ChoiceButtons).values(fingerprint="0" * 64))
    phone(WA, "whatsapp").send("hello")
    Dispatcher(services).run_once()
    [reply] = outbound(services)
    assert reply.content_sid is None
    assert [m["body"] for m in twilio.messages(f"whatsapp:{WA}")] == [
        services.catalogue.render("carry_on_ask", "en", choices=list(YES_NO))]


def test_a_reply_without_choices_is_plain_text(services, content_api, phone, twilio, rasa):
    make_buttons(services, content_api)
    rasa.ask = {"say": "carry_on_ask"}
    phone(WA, "whatsapp").send("hello")
    Dispatcher(services).run_once()
    assert outbound(services)[0].content_sid is None


# -- the 24-hour window ------------------------------------------------------------------------------------------


def reply_waiting(services, phone):
    """A WhatsApp reply with buttons, queued while the window was open but not sent yet (a slow outbox)."""
    phone(WA, "whatsapp").send("hello")  # stored, not handled: the reply is queued by hand below
    with services.db.session() as session:
        msg = session.scalars(select(Message).where(Message.direction == "in")).one()
        msg.state = "done"
        carer, conv = session.get(Carer, msg.carer_id), session.get(Conversation, msg.conversation_id)
        services.conversations.apply_replies(session, carer, conv, msg,
                                             [{"custom": {"say": "carry_on_ask", "choices": list(YES_NO)}}])
    [reply] = outbound(services)
    assert reply.state == "pending" and reply.content_sid
    return reply


def test_outside_the_window_buttons_become_the_numbered_text_by_sms_when_allowed(services, content_api, phone,
                                                                                  twilio, clock):
    make_buttons(services, content_api)
    reply_waiting(services, phone)
    with services.db.session() as session:
        allow_sms_fallback(session, session.scalars(select(Carer)).one(), True, clock.now())
    clock.advance(hours=25)
    for _ in range(3):
        services.outbox.send_due()
    [reply] = outbound(services)
    assert (reply.channel, reply.content_sid, reply.state) == ("sms", None, "sent")
    assert [m["body"] for m in twilio.messages(WA)] == [reply.body]
    assert message_posts(twilio, f"whatsapp:{WA}") == []  # the buttons never went out of the window


def test_outside_the_window_without_sms_the_reply_is_skipped(services, content_api, phone, twilio, clock):
    make_buttons(services, content_api)
    reply_waiting(services, phone)
    clock.advance(hours=25)
    for _ in range(3):
        services.outbox.send_due()
    [reply] = outbound(services)
    assert (reply.state, reply.error_note, reply.content_sid) == ("skipped", "whatsapp_window_closed", None)
    assert twilio.messages() == []


def test_twilio_closing_the_window_first_is_not_retried_forever(services, content_api, phone, twilio, clock):
    make_buttons(services, content_api)
    reply_waiting(services, phone)
    # Our clock says the window is open, Twilio says it is closed (63016 at create).
    twilio.set_faults(window_closed=[f"whatsapp:{WA}"], window_mode="create")
    for _ in range(5):
        services.outbox.send_due()
    codes = [r.code for r in message_posts(twilio, f"whatsapp:{WA}")]
    assert codes == [63016]  # one refused send with buttons, then the outbox's way with free text
    [reply] = outbound(services)
    assert (reply.state, reply.content_sid) == ("skipped", None)


def test_approved_templates_keep_their_own_way(services, phone, clock):
    """The outbox leaves a reminder's or a broadcast's template alone, whatever the window."""
    services.outbox.settings = services.settings.with_(whatsapp_reminder_content_sid="HX" + "c" * 32)
    phone(WA, "whatsapp").send("hello")
    Dispatcher(services).run_once()
    clock.advance(hours=30)
    template = Message(id=10_000, carer_id=outbound(services)[0].carer_id, direction="out", channel="whatsapp",
                       content_sid="HX" + "c" * 32, body="x", created_at=clock.now())
    with services.db.session() as session:
        outgoing, skip = services.outbox._outgoing(session, template, session.get(Carer, template.carer_id))
    assert skip is None and outgoing.content_sid == "HX" + "c" * 32
    assert template.content_sid == "HX" + "c" * 32


# -- taps --------------------------------------------------------------------------------------------------------


def test_a_tap_is_stored_as_the_line_the_carer_saw_and_reaches_rasa_as_the_choice(services, phone, rasa):
    p = phone(WA, "whatsapp")
    p.send("No", ButtonText="No", ButtonPayload="2")
    Dispatcher(services).run_once()
    with services.db.session() as session:
        [tap] = session.scalars(select(Message).where(Message.direction == "in")).all()
    assert tap.body == "2. No"
    assert [text for _, text, _ in rasa.seen] == ["2. No"]


@pytest.mark.parametrize("form, body", [
    ({"Body": "No", "ButtonText": "No", "ButtonPayload": "2"}, "2. No"),
    ({"Body": "It is hard", "ListId": "2", "ListTitle": "It is hard"}, "2. It is hard"),
    ({"Body": "Carry on", "ButtonText": "Carry on", "ButtonPayload": "resume-template"}, "Carry on"),
    ({"Body": "No", "ButtonPayload": "0"}, "No"),
    ({"Body": "hello"}, "hello"),
])
def test_which_taps_are_choices(form, body):
    from bot.messaging.inbox import IncomingMessage

    base = {"MessageSid": "SM" + "a" * 32, "AccountSid": ACCOUNT_SID, "From": f"whatsapp:{WA}", "To": "x"}
    assert IncomingMessage.from_twilio_form({**base, **form}).body == body


def test_a_button_is_an_answer_never_a_keyword(services, phone, rasa):
    p = phone(WA, "whatsapp")
    p.send("Stop", ButtonText="Stop", ButtonPayload="1")  # a button titled Stop answers a question
    Dispatcher(services).run_once()
    with services.db.session() as session:
        assert session.scalars(select(Carer.opted_out)).one() is False
    assert [text for _, text, _ in rasa.seen] == ["1. Stop"]



def test_the_command_prints_what_it_made_and_is_safe_to_rerun(settings, services, twilio, capsys):
    from bot import cli

    assert cli.whatsapp_buttons(settings) == 0
    first = capsys.readouterr().out.splitlines()
    assert len(first) == len(buttons.choice_sets()) and all(line.endswith("(created)") for line in first)
    assert cli.whatsapp_buttons(settings) == 0
    assert all(line.endswith("(kept)") for line in capsys.readouterr().out.splitlines())
    assert cli.whatsapp_buttons(settings.with_(twilio_auth_token="wrong")) == 1
    assert "Twilio refused" in capsys.readouterr().out
