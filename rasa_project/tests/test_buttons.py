"""A tapped WhatsApp button reaches Rasa as the numbered line the carer saw ("2. Not now"): it picks that choice."""

import pytest

from actions.flow import Turn, handle
from actions.parsing import parse_choice, parse_yes_no, picked_number

from test_flow import GOOD, Carer, started


@pytest.mark.parametrize("text, number", [
    ("2. No", 2), ("1. Yes, let's start", 1), ("10. Weekends", 10), (" 3. Not sure", 3),
    ("2", None), ("2.5 hours", None), ("1. respite\n2. money", None), ("No", None), ("", None),
])
def test_a_numbered_line_is_a_pick(text, number):
    assert picked_number(text) == number


@pytest.mark.parametrize("text, choices, value", [
    ("2. It is hard", ["choice.fine", "choice.hard", "choice.cannot"], "hard"),
    ("4. Does not apply", ["choice.fine", "choice.hard", "choice.cannot", "choice.not_apply"], "not_apply"),
    ("3. No", ["choice.yes", "choice.not_sure", "choice.no"], "no"),  # not "yes" for a 3 of "Yes, ..."
    ("2. See my answers first", ["choice.carry_on", "choice.see_answers"], "see_answers"),
    ("5. Something", ["choice.yes", "choice.no"], None),
])
def test_a_pick_chooses_by_its_number_not_its_words(text, choices, value):
    assert parse_choice(text, choices) == value


def test_a_pick_reads_yes_or_no_by_position_in_any_language():
    assert parse_yes_no("1. Ie, dechreuwn") == "yes"
    assert parse_yes_no("2. Dim nawr") == "no"


def test_tapping_not_now_declines_instead_of_pausing():
    c = Carer()
    c.says("hi", "greet")
    # The NLU may hear "not now" as a pause; a tapped choice answers the question it came with.
    c.says("2. Not now", "pause")
    assert c.said() == ["consent_declined"]


def test_tapping_a_choice_answers_the_question():
    c = started()
    for _ in range(60):
        if c.slots["current_question"] == "child_care":
            break
        c.answer_current()
    c.says("6. Does not apply", "skip")  # the words sound like "skip"; the tap is an answer
    [answer] = c.events("answer")
    assert (answer["question"], answer["value"], answer["status"]) == ("child_care", "not_apply", "answered")
    assert answer["raw"] == "6. Does not apply"


def test_a_numbered_line_to_a_free_text_question_keeps_its_words():
    c = started()
    assert c.slots["current_question"] == "name"
    c.says(GOOD["name"])
    assert c.slots["current_question"] != "name"
    while c.slots["current_question"] != "cared_for_who":
        c.answer_current()
    c.says("1. my mum")
    [answer] = c.events("answer")
    assert (answer["question"], answer["value"]) == ("cared_for_who", "1. my mum")


def test_tapping_carry_on_after_a_reminder():
    c = started()
    c.answer_current()
    result = handle("reminder", c.slots, Turn("EXTERNAL_reminder", 1.0, "", {}))
    c.slots.update(result.slots)
    assert c.slots["assessment_status"] == "resume_pending"
    c.says("1. Yes", "affirm")
    assert c.said()[-1].startswith("q.")
    assert c.slots["assessment_status"] == "in_progress"
