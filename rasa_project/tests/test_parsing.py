"""How carers write answers, read into values."""

import pytest

from actions.parsing import parse_choice, parse_number, parse_scale, parse_yes_no


@pytest.mark.parametrize("text, value", [
    ("yes", "yes"), ("Yep", "yes"), ("yeah", "yes"), ("ya", "yes"), ("YH", "yes"), ("aye", "yes"),
    ("yes 👍", "yes"), ("of course", "yes"), ("i do", "yes"), ("most nights", "yes"),
    ("no", "no"), ("nah", "no"), ("nope", "no"), ("not really", "no"), ("NO WAY", "no"), ("never", "no"),
    ("no there isnt", "no"), ("i haven't", "no"),
    ("kind of", "sometimes"), ("sometimes", "sometimes"), ("a bit", "sometimes"), ("kinda", "sometimes"),
    ("dunno", None), ("not sure", None), ("my mum", None), ("", None),
])
def test_yes_no(text, value):
    assert parse_yes_no(text) == value


@pytest.mark.parametrize("text, value", [
    ("40", 40), ("about forty hrs a wk", 40), ("forty five", 45), ("fifty ish", 50), ("30-40", 35),
    ("30 to 40 hours", 35), ("5 hours a day", 35), ("3 hrs a day", 21), ("24/7", 168), ("all day every day", 168),
    ("round the clock", 168), ("maybe 15", 15), ("twenty", 20), ("a lot", None), ("not sure", None), ("500", None),
])
def test_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text, value", [
    ("4", 4), ("five", 5), ("a lot", 5), ("not at all", 1), ("a bit", 2), ("quite a lot", 4), ("3 i suppose", 3),
    ("9", None), ("my mum", None),
])
def test_scale(text, value):
    assert parse_scale(text) == value


FINE_HARD = ["choice.fine", "choice.hard", "choice.cannot", "choice.not_apply"]


@pytest.mark.parametrize("text, choices, value", [
    ("2", FINE_HARD, "hard"), ("option 3", FINE_HARD, "cannot"), ("its really hard", FINE_HARD, "hard"),
    ("fine thanks", FINE_HARD, "fine"), ("cant manage at all", FINE_HARD, "cannot"), ("no kids", FINE_HARD, "not_apply"),
    ("n/a", FINE_HARD, "not_apply"), ("7", FINE_HARD, None),
    ("evenings after 7", ["choice.any_time", "choice.daytime", "choice.evenings", "choice.weekends"], "evenings"),
    ("yes with more help", ["choice.yes", "choice.yes_with_help", "choice.not_sure", "choice.no"], "yes_with_help"),
    ("i would like to", ["choice.work_now", "choice.want_to", "choice.no_work"], "want_to"),
])
def test_choice(text, choices, value):
    assert parse_choice(text, choices) == value
