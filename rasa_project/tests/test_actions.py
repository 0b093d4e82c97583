"""The Rasa actions from tracker fixtures: the exact events and JSON messages they produce."""

import asyncio
import copy
import json
from pathlib import Path

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.assessment import ActionAssessmentStep, ActionSkip
from actions.commands import ActionHandoff, ActionPause
from actions.privacy import ActionOptOut
from actions.session import ActionSessionStart

FIXTURE = json.loads((Path(__file__).parent / "fixtures/mid_assessment.json").read_text())


def tracker(text=None, intent=None, hours=None, **slots):
    state = copy.deepcopy(FIXTURE)
    state["slots"].update(slots)
    if text is not None:
        state["latest_message"]["text"] = text
    if intent is not None:
        state["latest_message"]["intent"]["name"] = intent
    if hours is not None:
        state["latest_message"]["metadata"]["resumed_after_hours"] = hours
    return Tracker.from_dict(state)


def run(action, t):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return events, [m["custom"] for m in dispatcher.messages]


def test_step_records_the_answer_and_asks_the_next_question():
    events, msgs = run(ActionAssessmentStep(), tracker())
    assert msgs == [
        {"event": "answer", "question": "hours_week", "value": 40, "raw": "about forty hrs a wk", "status": "answered"},
        {"say": "support.carers_allowance"},
        {"event": "progress", "section": "caring", "done": 2, "total": 27},
        {"say": "q.nights"},
    ]
    assert SlotSet("current_question", "nights") in events
    assert SlotSet("retries", 0) in events
    answers = [e for e in events if e["name"] == "answers"][0]["value"]
    assert answers["hours_week"] == {"value": 40, "raw": "about forty hrs a wk", "status": "answered"}


def test_every_message_is_a_custom_payload_with_no_words():
    _, msgs = run(ActionAssessmentStep(), tracker())
    for m in msgs:
        assert set(m) <= {"say", "vars", "choices", "event", "question", "value", "raw", "status", "section",
                          "done", "total", "reason", "window", "when", "confirm", "kind"}


def test_unusable_reply_gets_the_rephrased_question():
    events, msgs = run(ActionAssessmentStep(), tracker(text="loads"))
    # Asked again: the gateway starts the reminders afresh from here.
    assert msgs == [{"say": "q.hours_week.retry"}, {"event": "progress", "section": "caring", "done": 1, "total": 27}]
    # The carer's first words are kept, to be stored with the answer that follows.
    assert events == [SlotSet("retries", 1), SlotSet("heard", {"question": "hours_week", "words": ["loads"]})]


def test_second_unusable_reply_is_marked_unclear():
    _, msgs = run(ActionAssessmentStep(), tracker(text="loads", retries=1))
    assert msgs[0] == {"event": "answer", "question": "hours_week", "value": None, "raw": "loads", "status": "unclear"}
    assert msgs[-1] == {"say": "q.nights"}


def test_pause_then_resume_after_hours_recaps():
    events, msgs = run(ActionPause(), tracker(text="gtg", intent="pause"))
    assert msgs == [{"event": "paused"}, {"say": "pause_goodbye"}]
    assert events == [SlotSet("assessment_status", "paused")]
    _, msgs = run(ActionAssessmentStep(), tracker(text="hi", intent="greet", hours=20, assessment_status="paused"))
    assert msgs == [{"say": "welcome_back", "vars": {"name": "Jo"}}, {"say": "recap.caring"},
                    {"say": "carry_on_ask", "choices": ["choice.yes", "choice.no"]},
                    {"event": "progress", "section": "caring", "done": 1, "total": 27}]


def test_skip():
    _, msgs = run(ActionSkip(), tracker(text="skip", intent="skip"))
    assert msgs[0] == {"event": "answer", "question": "hours_week", "value": None, "raw": "skip", "status": "skipped"}


def test_handoff():
    events, msgs = run(ActionHandoff(), tracker(text="can i talk to a real person", intent="human"))
    assert msgs == [{"event": "handoff", "reason": "asked_for_person"}, {"say": "handoff_asked"}]
    assert SlotSet("assessment_status", "with_person") in events


def test_opt_out_is_silent_after():
    events, msgs = run(ActionOptOut(), tracker(text="STOP", intent="opt_out"))
    assert msgs == [{"event": "opt_out"}] and SlotSet("opted_out", True) in events
    _, msgs = run(ActionAssessmentStep(), tracker(text="40", opted_out=True))
    assert msgs == []


def test_session_start_carries_every_slot_over():
    t = tracker()
    events, msgs = run(ActionSessionStart(), t)
    assert msgs == []
    assert events[0] == SessionStarted() and events[-1] == ActionExecuted("action_listen")
    carried = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert carried["current_question"] == "hours_week" and carried["answers"]["name"]["value"] == "Jo"


def test_a_second_flow_action_for_the_same_message_does_nothing():
    t = tracker()
    t.events.append({"event": "action", "name": "action_assessment_step"})
    events, msgs = run(ActionAssessmentStep(), t)
    assert events == [] and msgs == []
