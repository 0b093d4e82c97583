"""How carers write answers, read into values: sure readings, readings to check with the carer, and none."""

import pytest

from actions import questions as Q
from actions.parsing import Reading, parse_choice, parse_number, parse_scale, parse_yes_no, read_answer

CHECK = "check"  # a reading the carer is asked to confirm ("So ..., is that right?")


def reads(qid, text):
    """What the bot does with a reply: the value it stores, (value, CHECK) to ask first, or None to ask again."""
    reading = read_answer(Q.question(qid), text)
    if reading is None:
        return None
    return reading.value if reading.sure else (reading.value, CHECK)


@pytest.mark.parametrize("text, value", [
    ("yes", "yes"), ("Yep", "yes"), ("yeah", "yes"), ("ya", "yes"), ("YH", "yes"), ("aye", "yes"), ("yesss", "yes"),
    ("yes 👍", "yes"), ("of course", "yes"), ("i do", "yes"), ("most nights", "yes"),
    ("no", "no"), ("nah", "no"), ("nope", "no"), ("not really", "no"), ("NO WAY", "no"), ("never", "no"),
    ("no there isnt", "no"), ("i haven't", "no"), ("noooo", "no"), ("no never", "no"),
    ("kind of", "sometimes"), ("sometimes", "sometimes"), ("a bit", "sometimes"), ("kinda", "sometimes"),
    ("yes but not every night", "sometimes"), ("somtimes", "sometimes"), ("depends on the night", "sometimes"),
    ("dunno", None), ("not sure", None), ("my mum", None), ("", None), ("no idea", None), ("yes and no", None),
])
def test_yes_no(text, value):
    assert parse_yes_no(text) == value


@pytest.mark.parametrize("qid, text, value", [
    # A reason after the yes or no does not change it.
    ("lives_with", "no he's in a care home now", "no"), ("lives_with", "yes since his stroke", "yes"),
    ("lives_with", "no, but i'm there every day", "no"), ("lives_with", "half the week", "sometimes"),
    # Someone else not knowing is a no; the carer not knowing is not an answer.
    ("gp_knows", "they dont know", "no"), ("gp_knows", "not yet", "no"), ("gp_knows", "dont know", None),
    # Negative concord is one no, as meant.
    ("local_groups", "never had no help from nobody", "no"),
    # Hedges are checked, not stored as a confident value.
    ("gp_knows", "i think so", ("yes", CHECK)), ("nights", "probably", ("yes", CHECK)),
    ("nights", "i dont think so", ("no", CHECK)), ("contingency_plan", "not that i know of", ("no", CHECK)),
])
def test_yes_no_questions(qid, text, value):
    assert reads(qid, text) == value


@pytest.mark.parametrize("text, value", [
    ("40", 40), ("about forty hrs a wk", 40), ("forty five", 45), ("fifty ish", 50), ("30-40", 35),
    ("30 to 40 hours", 35), ("between 30 and 40", 35), ("5 hours a day", 35), ("3 hrs a day", 21), ("24/7", 168),
    ("all day every day", 168), ("round the clock", 168), ("maybe 15", 15), ("twenty", 20),
    ("a hundred and twenty", 120), ("2-3 hours a day", 17.5), ("4 hours a day 3 days a week", 12),
    ("a lot", None), ("not sure", None), ("500", None), ("it varies", None), ("3 days a week", None),
])
def test_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text, value", [
    ("a few hours a day", (21, CHECK)), ("couple of hours a day", (14, CHECK)), ("40", 40),
])
def test_vague_hours_are_checked(text, value):
    assert reads("hours_week", text) == value


@pytest.mark.parametrize("text, value", [
    ("4", 4), ("five", 5), ("a lot", 5), ("not at all", 1), ("a bit", 2), ("quite a lot", 4), ("3 i suppose", 3),
    ("9", None), ("my mum", None),
])
def test_scale(text, value):
    assert parse_scale(text) == value


@pytest.mark.parametrize("text, value", [("3 or 4", (4, CHECK)), ("8/10", (4, CHECK)), ("some", (3, CHECK))])
def test_scale_readings_between_points_are_checked(text, value):
    assert reads("mental_health", text) == value


OUTCOME = ["choice.fine", "choice.with_help", "choice.distress", "choice.at_risk", "choice.cannot",
           "choice.not_apply"]


@pytest.mark.parametrize("text, value", [
    ("2", "with_help"), ("option 3", "distress"), ("the fourth one", "at_risk"), ("five", "cannot"),
    ("5. I can't manage it", "cannot"), ("fine thanks", "fine"), ("cant manage at all", "cannot"),
    ("no kids", "not_apply"), ("n/a", "not_apply"), ("7", None), ("only with help", "with_help"),
])
def test_choice_by_number_title_or_words(text, value):
    assert parse_choice(text, OUTCOME) == value


@pytest.mark.parametrize("qid, text, value", [
    # "Do you also look after children?": yes says there are children, not how it goes; no means it does not apply.
    ("child_care", "yes", None), ("child_care", "yes 2 kids, its fine", "fine"), ("child_care", "no", "not_apply"),
    ("child_care", "never had any", "not_apply"), ("child_care", "they're all grown up", "not_apply"),
    ("child_care", "my mum helps with them", "with_help"), ("child_care", "yes its hard", ("distress", CHECK)),
    ("caring_for_others", "nope just him", "not_apply"),
    # Questions that ask "are you able": a plain no is unable, never unclear.
    ("recreation", "no", "cannot"), ("recreation", "never", "cannot"), ("recreation", "nope", "cannot"),
    ("recreation", "not at all", "cannot"), ("recreation", "no time for me", "cannot"), ("recreation", "ye", "fine"),
    ("recreation", "not really", ("cannot", CHECK)), ("recreation", "hardly ever", ("cannot", CHECK)),
    ("recreation", "only if my sister sits with him", "with_help"),
    ("recreation", "cant leave him alone", "at_risk"),
    ("nutrition", "no", "cannot"), ("nutrition", "i dont eat properly", "cannot"), ("nutrition", "i skip meals", "cannot"),
    ("nutrition", "yeah fine", "fine"), ("nutrition", "live on toast", ("cannot", CHECK)),
    ("relationships", "no", "cannot"), ("relationships", "i dont see my friends", "cannot"),
    ("relationships", "lost touch with most of them", "cannot"), ("relationships", "yes", "fine"),
    # "How are you managing ...?": a yes or no alone leans, and is checked.
    ("home", "no", ("cannot", CHECK)), ("home", "struggling", ("distress", CHECK)),
    ("home", "its hard", ("distress", CHECK)), ("home", "my daughter does the cleaning", "with_help"),
    ("home", "its a mess", "cannot"), ("home", "my back is killing me doing it", "distress"),
    ("home", "worried he'll fall while im hoovering", "at_risk"), ("home", "cant complain", "fine"),
    ("work_impact", "doesnt affect it", "fine"), ("work_impact", "always leaving early, its so stressful", "distress"),
    ("work_impact", "had to cut my hours", ("cannot", CHECK)),
])
def test_outcome_questions(qid, text, value):
    assert reads(qid, text) == value


@pytest.mark.parametrize("text, value", [
    ("I have no choice really", "no_choice"), ("i have to, no one else will", "no_choice"),
    ("its my duty", "no_choice"), ("not like i have a choice", "no_choice"), ("i dont want to but i have to", "no_choice"), ("who else is going to", "no_choice"),
    ("yes", "yes"), ("of course shes my mum", "yes"), ("wouldnt have it any other way", "yes"),
    ("yes but i need more help", "yes_with_help"), ("only if i get a break", "yes_with_help"),
    ("dunno", "not_sure"), ("one day at a time", "not_sure"), ("no", "no"), ("not really", "no"),
    ("i cant do it any more", "no"), ("3", "no_choice"),
])
def test_willing_to_continue(text, value):
    assert reads("willing_to_continue", text) == value


@pytest.mark.parametrize("text, value", [
    ("I had to give up my job to look after him", "gave_up"), ("packed it in last year", "gave_up"),
    ("lost my job because of all the time off", "gave_up"), ("left work to care for mum", "gave_up"),
    ("gave up work but would love to go back", "want_to"), ("caring is my full time job", "no_work"),
    ("im a full time carer", "no_work"), ("no i cant work", "no_work"), ("retired", "no_work"),
    ("not at the moment", "no_work"), ("no", "no_work"), ("part time at tesco", "work_now"),
    ("i work full time", "work_now"), ("yes i volunteer", "work_now"), ("id like to", "want_to"),
    ("yes", ("work_now", CHECK)), ("i used to", ("gave_up", CHECK)), ("3", "gave_up"),
])
def test_work_status(text, value):
    assert reads("work_status", text) == value


@pytest.mark.parametrize("text, value", [
    ("i hope so", ("yes", CHECK)), ("dont think so", "no"), ("probably not", ("no", CHECK)), ("who knows", "not_sure"),
    ("day by day", "not_sure"), ("yes", "yes"),
])
def test_able_in_future(text, value):
    assert reads("able_in_future", text) == value


@pytest.mark.parametrize("text, value", [
    ("evenings after 7", "evenings"), ("any time", "any_time"), ("any time after 7", "evenings"), ("2", "daytime"),
    ("weekends", "weekends"),
])
def test_contact_times(text, value):
    assert reads("contact_times", text) == value


def test_every_reading_has_its_check_question():
    from test_catalogue import CATALOGUE

    for qid in Q.order():
        for key in Q.confirm_keys(qid):
            assert key in CATALOGUE, key
    assert Q.confirm_key("work_status", "no_work") == ("q.work_status.confirm.no_work", None)
    assert Q.confirm_key("hours_week", 17.5) == ("q.hours_week.confirm", {"n": 17.5})
    assert Reading("x").sure


@pytest.mark.parametrize("qid", ["home", "recreation", "child_care", "work_status"])
def test_dont_know_is_not_a_no(qid):
    assert reads(qid, "dunno") is None or reads(qid, "dunno") == "not_sure"


@pytest.mark.parametrize("qid, text, value", [
    ("contact_times", "any time but not evenings", "any_time"), ("home", "im not coping", ("cannot", CHECK)),
    ("recreation", "not very good", "cannot"), ("community", "no one helps me get out", "cannot"),
    ("work_status", "im not at work at the moment", "no_work"), ("nutrition", "its fine, not stressful", "fine"),
])
def test_a_negated_phrase_is_not_read_as_itself(qid, text, value):
    assert reads(qid, text) == value


@pytest.mark.parametrize("qid, text, value", [
    # "no probs" is no problem, whatever "probs" means alone.
    ("community", "no probs", "fine"), ("home", "no prob at all", "fine"),
    # How often in a night is not how many nights.
    ("nights", "every night, sometimes 3 or 4 times", "yes"), ("nights", "no, but every day", "no"),
    # A question back about the question answers nothing yet.
    ("willing_to_continue", "what happens if I say no?", None), ("lives_with", "what if i said yes", None),
    # A tag question adds no negation.
    ("able_in_future", "I'll have to, won't I", None),
    # Help as a condition of going on.
    ("willing_to_continue", "no way, not without carers coming in", ("yes_with_help", CHECK)),
    ("willing_to_continue", "yeah if i could get a break now and then", "yes_with_help"),
    ("able_in_future", "no reason why not", "yes"), ("able_in_future", "50/50", "not_sure"),
    # A clock time is a part of the day.
    ("contact_times", "after 7pm once mum's settled", "evenings"), ("contact_times", "about 10am", "daytime"),
    ("hours_week", "weekdays only, about 6 hours a day", 30),
    ("mental_health", "some days 1 some days 5", None), ("mental_health", "moderately", 3),
])
def test_readings_in_carers_words(qid, text, value):
    assert reads(qid, text) == value
