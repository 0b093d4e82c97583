"""Whole conversations through the state machine, turn by turn (intent as NLU would give it)."""

from actions import questions as Q
from actions.flow import DEFAULTS, Turn, handle

COMMAND_OF = {"pause": "pause", "skip": "skip", "change_answer": "back", "repeat": "repeat",
              "summary": "summary", "help": "help", "human": "human", "opt_out": "opt_out",
              "opt_in": "opt_in", "erase": "erase", "contact_window": "contact_window",
              "EXTERNAL_reminder": "reminder", "EXTERNAL_resume": "handback", "resume": "resume",
              "safeguarding": "safeguarding"}

# A reply that fits each question.
GOOD = {"name": "Jo", "contact_times": "evenings", "cared_for_who": "my mum", "cared_for_needs": "dementia",
        "lives_with": "yep", "caring_tasks": "washing meals meds", "hours_week": "about forty hrs a wk",
        "nights": "most nights", "willing_to_continue": "2", "able_in_future": "not sure",
        "physical_health": "4", "mental_health": "a lot", "health_detail": "bad back and no sleep",
        "child_care": "6", "caring_for_others": "n/a", "home": "my daughter helps", "nutrition": "fine",
        "home_life_detail": "no time to clean", "relationships": "cant see friends, no time", "work_status": "1",
        "work_impact": "cant manage", "community": "ok", "recreation": "3", "your_life_detail": "no time",
        "what_would_help": "a break", "family_friends": "my sister", "local_groups": "no",
        "involve_others": "no", "contingency_plan": "nope", "gp_knows": "yes", "anything_else": "no thanks"}


class Carer:
    """A carer texting: keeps the slots between turns like Rasa's tracker does."""

    def __init__(self):
        self.slots = dict(DEFAULTS)
        self.out = []

    def says(self, text, intent="inform", confidence=0.95, hours=0.0):
        command = COMMAND_OF.get(intent, "answer")
        result = handle(command, self.slots, Turn(intent, confidence, text, {"resumed_after_hours": hours}))
        self.slots.update(result.slots)
        self.out = result.messages
        return self.out

    def said(self):
        return [m["say"] for m in self.out if "say" in m]

    def asked(self):
        """The last thing said (a question or a check), whatever events follow it."""
        return [m for m in self.out if "say" in m][-1]

    def events(self, name=None):
        return [m for m in self.out if "event" in m and (name is None or m["event"] == name)]

    def answer_current(self):
        return self.says(GOOD[self.slots["current_question"]])


def started():
    c = Carer()
    c.says("hi", "greet")
    assert c.said() == ["greet", "safe_to_text", "privacy_notice"]
    c.says("yes", "affirm")
    assert c.said() == ["saved_any_time", "q.name"]
    assert c.events("answer")[0]["question"] == "consent"
    return c


def test_whole_assessment_in_one_sitting():
    c = started()
    answered, seen_progress = [], []
    for _ in range(60):
        qid = c.slots["current_question"]
        if qid is None:
            break
        c.answer_current()
        answered.append(qid)
        seen_progress += [s for s in c.said() if s.startswith("progress.")]
        assert c.events("answer")[0] == {"event": "answer", "question": qid, "value": c.slots["answers"][qid]["value"],
                                         "raw": GOOD[qid], "status": "answered"}
    assert c.slots["assessment_status"] == "completed"
    assert c.events("completed") and c.events("handoff")[0]["reason"] == "completed"
    assert c.said()[-3:] == ["completed", "completed_next", "support.end"]
    assert seen_progress == ["progress.halfway", "progress.sections_left", "progress.last_section"]
    # Follow-ups were asked because some answers were hard; values were read.
    a = c.slots["answers"]
    assert a["hours_week"]["value"] == 40 and a["lives_with"]["value"] == "yes"
    assert a["mental_health"]["value"] == 5 and a["work_status"]["value"] == "work_now"
    assert {"health_detail", "home_life_detail", "work_impact", "your_life_detail"} <= set(answered)
    assert c.slots["carer_name"] == "Jo"


def test_support_is_offered_as_soon_as_answers_show_a_need():
    c = started()
    while c.slots["current_question"] != "hours_week":
        c.answer_current()
    c.says("50")
    assert "support.carers_allowance" in c.said()


def test_pause_and_come_back_days_later_to_the_exact_question():
    c = started()
    for _ in range(6):
        c.answer_current()
    where = c.slots["current_question"]
    c.says("got to go hes calling", "pause")
    assert c.events("paused") and c.said() == ["pause_goodbye"]
    c.says("hi", "greet", hours=72)
    assert c.said() == ["welcome_back", f"recap.{Q.question(where)['section']}", "carry_on_or_review"]
    c.says("2")
    assert c.said()[0] == "summary_head"
    c.says("yes", "affirm")
    assert c.said() == [f"q.{where}"]
    c.answer_current()
    assert c.events("answer")[0]["question"] == where


def test_gap_without_pause_recaps_unless_the_reply_answers():
    c = started()
    c.answer_current()
    c.answer_current()
    c.says("hello again", "greet", hours=30)
    assert c.said()[-1] == "carry_on_ask"
    c.says("my dad", hours=0)
    assert c.events("answer")[0]["question"] == "cared_for_who"


def test_one_retry_then_unclear():
    c = started()
    while c.slots["current_question"] != "hours_week":
        c.answer_current()
    c.says("loads")
    assert c.said() == ["q.hours_week.retry"] and not c.events("answer")
    c.says("honestly no idea")
    assert c.events("answer")[0]["status"] == "unclear" and c.events("answer")[0]["value"] is None
    assert c.slots["current_question"] == "nights"


def test_change_an_earlier_answer_then_return():
    c = started()
    while c.slots["current_question"] != "nights":
        c.answer_current()
    c.says("change my answer to the hours question", "change_answer")
    assert c.said() == ["change_ok", "q.hours_week"]
    c.says("60")
    assert c.events("answer")[0] == {"event": "answer", "question": "hours_week", "value": 60, "raw": "60",
                                     "status": "changed"}
    assert c.said()[-1] == "q.nights"


def test_change_with_the_new_value_in_one_message():
    c = started()
    while c.slots["current_question"] != "nights":
        c.answer_current()
    c.says("change hours to 50", "change_answer")
    assert c.events("answer")[0]["value"] == 50 and c.events("answer")[0]["status"] == "changed"
    assert c.said() == ["change_done", "q.nights"]


def test_back_goes_to_previous_question():
    c = started()
    c.answer_current()
    c.says("back", "change_answer")
    assert c.said() == ["change_ok", "q.name"]
    c.says("Joanne")
    assert c.slots["carer_name"] == "Joanne" and c.said()[-1] == "q.contact_times"


def test_skip_marks_skipped():
    c = started()
    c.says("skip", "skip")
    assert c.events("answer")[0]["status"] == "skipped" and c.said() == ["skip_ok", "q.contact_times"]


def test_repeat_explains():
    c = started()
    c.says("what do u mean", "repeat")
    assert c.said() == ["q.name.explain", "q.name"]


def test_stop_mid_way_then_start_back_where_they_were():
    c = started()
    c.answer_current()
    where = c.slots["current_question"]
    c.says("STOP", "opt_out")
    assert c.out == [{"event": "opt_out"}]
    assert c.says("hello?", "greet") == [] and c.says("!remind", "EXTERNAL_reminder") == []
    c.says("START", "opt_in")
    assert c.events("opt_in") and c.said() == ["opt_in_welcome", f"q.{where}"]


def test_stop_keyword_wins_whatever_the_intent():
    c = started()
    c.says("Stop.", "inform", 0.4)
    assert c.out == [{"event": "opt_out"}]


def test_stop_in_a_sentence_is_an_answer():
    c = started()
    c.answer_current()
    c.answer_current()
    c.says("i wish i could stop worrying about my mum all the time she is so poorly", "opt_out", 0.6)
    assert c.events("answer")[0]["question"] == "cared_for_who"


def test_person_mid_way_hands_off_and_stops_asking():
    c = started()
    c.answer_current()
    c.says("can i talk to a real person", "human")
    assert c.events("handoff") == [{"event": "handoff", "reason": "asked_for_person"}]
    assert c.said() == ["handoff_asked"]
    c.says("ok thanks", "thanks")
    assert c.said() == ["handoff_waiting"]
    c.says("carry on", "resume")
    assert c.said() == ["q.contact_times"]


def test_delete_my_data_asks_then_erases():
    c = started()
    c.answer_current()
    c.says("delete my data", "erase")
    assert c.said() == ["erase_confirm_ask"]
    c.says("yes", "affirm")
    assert c.events("erase_confirmed") and c.said() == ["erase_done"]
    assert c.slots["answers"] == {} and c.slots["assessment_status"] == "not_started"


def test_delete_cancelled_keeps_everything():
    c = started()
    c.answer_current()
    c.says("delete everything", "erase")
    c.says("no", "deny")
    assert c.said() == ["erase_cancelled", "q.contact_times"] and c.slots["answers"]


def test_everything_as_an_answer_is_not_erase():
    c = started()
    for _ in range(5):
        c.answer_current()
    assert c.slots["current_question"] == "caring_tasks"
    c.says("everything", "erase", 0.7)
    assert c.events("answer")[0]["question"] == "caring_tasks"


def test_contact_window_any_time():
    c = started()
    c.answer_current()
    c.answer_current()
    c.says("only text after 7 pls", "contact_window")
    assert c.events("contact_window") == [{"event": "contact_window", "window": "only text after 7 pls"}]
    assert c.said() == ["contact_window_ok"]


def test_reminder_recaps_and_offers_to_carry_on():
    c = started()
    c.answer_current()
    c.says("later", "pause")
    c.says("", "EXTERNAL_reminder")
    assert c.said() == ["reminder", "recap.about_you", "carry_on_ask"]
    c.says("yes", "affirm")
    assert c.said() == ["q.contact_times"]


def test_consent_declined():
    c = Carer()
    c.says("hi", "greet")
    c.says("no thanks", "deny")
    assert c.said() == ["consent_declined"] and c.slots["assessment_status"] == "declined"


def test_stop_asking_me_that_is_not_an_opt_out():
    c = started()
    c.says("stop asking me that", "opt_out", 0.86)
    assert not c.events("opt_out")
    c.says("please stop texting me", "opt_out", 0.9)
    assert c.events("opt_out")


def test_someone_to_talk_to_answers_what_would_help():
    c = started()
    while c.slots["current_question"] != "what_would_help":
        c.answer_current()
    c.says("someone to talk to who gets it", "human", 0.7)
    assert c.events("answer")[0]["question"] == "what_would_help" and not c.events("handoff")
    c.says("can someone ring me", "human", 0.8)
    assert c.events("handoff")


def test_first_message_sends_the_privacy_notice_once():
    c = Carer()
    c.says("hi", "greet")
    assert c.said().count("privacy_notice") == 1 and c.said().count("greet") == 1
    # "hi" then "hello" before reading: the short consent question, not the notice again.
    c.says("hello", "greet")
    assert c.said() == ["consent_ask"]


def test_a_turn_never_says_the_same_key_twice():
    from actions.flow import Result

    r = Result()
    r.say("privacy_notice", choices=["choice.yes"])
    r.say("privacy_notice", choices=["choice.yes"])
    assert [m["say"] for m in r.messages] == ["privacy_notice"]


def test_worker_hands_back_to_the_exact_question():
    c = started()
    c.answer_current()
    c.answer_current()
    where = c.slots["current_question"]
    c.says("can i speak to someone please", "human")
    assert c.events("handoff") and c.slots["assessment_status"] == "with_person"
    c.says("", "EXTERNAL_resume")
    assert c.said() == ["handback_carry_on", f"q.{where}"]
    assert c.slots["assessment_status"] == "in_progress"


def test_hand_back_before_consent_asks_for_consent():
    c = Carer()
    c.says("i want to talk to a person", "human")
    c.says("", "EXTERNAL_resume")
    assert c.said() == ["handback_start", "consent_ask"]
    c.says("yes", "affirm")
    assert c.said() == ["saved_any_time", "q.name"]


def test_hand_back_stays_silent_after_stop():
    c = started()
    c.says("STOP", "opt_out")
    c.says("", "EXTERNAL_resume")
    assert c.out == []


def test_each_kind_of_support_is_offered_once_and_the_centre_again_at_the_end():
    c = started()
    offered = []
    for _ in range(60):
        if c.slots["current_question"] is None:
            break
        c.answer_current()
        offered += [s for s in c.said() if s.startswith("support.")]
    assert offered[:-1] == ["support.carers_allowance", "support.breaks", "support.carers_centre",
                            "support.work_rights", "support.emergency_plan"]
    assert offered[-1] == "support.end" and c.events("copy")
    centre = [m for m in c.out if m.get("say") == "support.end"][0]["vars"]
    assert set(centre) == {"centre", "phone", "link"}


def test_a_bad_back_is_an_answer_not_going_back():
    c = started()
    while c.slots["current_question"] != "health_detail":
        c.answer_current()
    c.says("bad back and no sleep", "change_answer", confidence=0.7)
    assert c.events("answer")[0]["question"] == "health_detail"


def test_an_answer_that_sounds_like_pause_is_an_answer_but_got_to_go_pauses():
    c = started()
    while c.slots["current_question"] != "cared_for_needs":
        c.answer_current()
    c.says("never any time for me", "pause", confidence=0.6)
    assert c.events("answer")[0]["question"] == "cared_for_needs"
    c.says("sorry got to go hes calling me", "pause")
    assert c.said() == ["pause_goodbye"]


def test_the_nlu_safeguarding_intent_is_heard_even_inside_a_long_free_text_answer():
    c = started()
    for _ in range(5):
        c.answer_current()
    text = "washing dressing meals meds and some nights I think they would all be better off without me"
    waiting_on = c.slots["current_question"]
    c.says(text, "safeguarding", 0.93)
    assert c.events("handoff") == [{"event": "handoff", "reason": "safeguarding", "flags": ["nlu"]}]
    # the gateway asks whether they are safe; the question waits for them
    assert not c.events("answer") and c.slots["assessment_status"] == "in_progress"
    assert c.slots["current_question"] == waiting_on


def test_an_unsure_risk_intent_is_read_as_the_answer_it_probably_is():
    c = started()
    while c.slots["current_question"] != "anything_else":
        c.answer_current()
    c.says("only that the stairlift broke and nobody has come to fix it", "safeguarding", 0.6)
    assert c.events("answer")[0]["question"] == "anything_else"
    assert [h["reason"] for h in c.events("handoff")] == ["completed"]  # the review, not a risk


def test_no_texts_at_the_first_message_stops_and_asks_a_person_to_find_another_way():
    c = Carer()
    c.says("hi", "greet")
    assert "safe_to_text" in c.said()
    c.says("NO TEXTS", "opt_out", 0.9)
    assert c.said() == ["not_safe_to_text"]
    assert c.events("handoff") == [{"event": "handoff", "reason": "unsafe_to_text"}]
    assert c.slots["assessment_status"] == "with_person" and not c.slots["opted_out"]


COMMAND_OF.update({"what_is_this": "what_is_this", "who_sees": "who_sees", "how_long": "how_long",
                   "bereavement": "bereavement", "care_home_or_hospital": "care_home_or_hospital",
                   "wrong_number": "wrong_number"})


def at(qid):
    c = started()
    while c.slots["current_question"] != qid:
        c.answer_current()
    return c


def test_the_first_question_after_yes_starts_the_reminders():
    c = Carer()
    c.says("hi", "greet")
    c.says("yes", "affirm")
    assert c.events("progress") == [{"event": "progress", "section": "about_you", "done": 0, "total": 27}]


def test_every_question_asked_again_starts_the_reminders_again():
    c = at("caring_tasks")
    for text, intent in (("what do you mean", "repeat"), ("summary", "summary"), ("who sees this", "who_sees")):
        c.says(text, intent)
        assert c.said()[-1] == "q.caring_tasks" and len(c.events("progress")) == 1, text
    c.says("got to go", "pause")
    assert not c.events("progress")  # paused: the gateway's pause schedule, not a question waiting


def test_bereavement_mid_assessment_ends_the_questions_for_good():
    c = at("nights")
    c.says("my husband passed away last night", "bereavement")
    assert c.said() == ["bereavement"] and not c.events("answer") and not c.events("progress")
    assert c.events("handoff") == [{"event": "handoff", "reason": "bereavement"}]
    assert c.events("life_event") == [{"event": "life_event", "kind": "bereavement"}]
    for text, intent in (("ok", "affirm"), ("carry on", "resume"), ("yes", "affirm"), ("", "EXTERNAL_reminder"),
                         ("skip", "skip")):
        c.says(text, intent)
        assert not any(s.startswith("q.") for s in c.said()), text
    c.says("", "EXTERNAL_resume")
    assert c.said() == ["handback_ended"]


def test_a_death_years_ago_is_an_answer():
    c = at("cared_for_who")
    c.says("my mum, she died two years ago and now i care for dad", "bereavement", 0.7)
    assert c.events("answer")[0]["question"] == "cared_for_who" and not c.events("handoff")


def test_care_home_or_hospital_stops_the_questions_and_asks_a_person():
    c = at("home")
    c.says("mum has gone into a care home", "inform", 0.5)
    assert c.said() == ["care_home_or_hospital"] and not c.events("answer")
    assert c.events("handoff") == [{"event": "handoff", "reason": "circumstances_changed"}]
    assert c.slots["assessment_status"] == "with_person"
    c.says("carry on", "resume")
    assert c.said() == ["q.home"]


def test_hospital_appointments_are_an_answer():
    c = at("caring_tasks")
    c.says("he's in hospital appointments a lot", "care_home_or_hospital", 0.8)
    assert c.events("answer")[0]["question"] == "caring_tasks"


def test_wrong_number_apologises_once_then_silence():
    c = at("cared_for_who")
    c.says("sorry you have the wrong number", "inform", 0.4)
    assert c.out == [{"event": "opt_out", "confirm": "wrong_number"}]
    assert c.says("hello?", "greet") == []


def test_a_stop_in_their_own_words_asks_the_gateway_to_confirm_it():
    c = at("what_would_help")
    c.says("Please can you stop messaging me, I have changed my mind about this", "opt_out", 0.7)
    assert c.out == [{"event": "opt_out", "confirm": "opted_out"}]
    c = at("what_would_help")
    c.says("STOP", "opt_out")
    assert c.out == [{"event": "opt_out"}]  # the keyword: on SMS the carrier confirms it


def test_a_pause_with_a_time_tells_the_gateway_when():
    c = at("hours_week")
    c.says("can you text me tomorrow evening", "pause", 0.9)
    assert c.events("paused") == [{"event": "paused", "when": "can you text me tomorrow evening"}]
    assert c.said() == ["pause_at_time"] and not c.events("answer")


def test_a_pause_with_a_reason_is_not_an_answer():
    c = at("what_would_help")
    c.says("sorry mum's just woken up, I'll have to finish this later", "inform", 0.5)
    assert c.events("paused") and not c.events("answer")


def test_too_tired_tonight_is_a_pause_without_a_time():
    c = at("cared_for_needs")
    c.says("too tired tonight", "pause", 0.9)
    assert c.events("paused") == [{"event": "paused"}]


def test_asking_for_a_call_or_a_visit_or_not_typing_reaches_a_person():
    for text in ("i'd much rather someone phoned me", "could someone visit me at home",
                 "i'm not very good with texting"):
        c = at("what_would_help")
        c.says(text, "human", 0.7)
        assert c.events("handoff") == [{"event": "handoff", "reason": "asked_for_person"}], text
    c = at("what_would_help")
    c.says("someone to phone me once a week", "human", 0.9)
    assert c.events("answer") and not c.events("handoff")


def test_questions_about_the_service_get_their_own_answer_then_the_question():
    for text, intent, key in (("who are you", "what_is_this", "about_service"),
                              ("who sees my answers", "who_sees", "who_sees"),
                              ("how long does this take", "how_long", "how_long_so_far")):
        c = at("nights")
        c.says(text, intent)
        assert c.said() == [key, "q.nights"], text


def test_change_named_by_topic_goes_straight_to_it():
    c = at("home")
    c.says("can i change what i said about my health", "change_answer")
    assert c.said() == ["change_ok", "q.physical_health"]
    c = at("home")
    c.says("i got the hours wrong", "change_answer")
    assert c.said() == ["change_ok", "q.hours_week"]


def test_go_back_is_the_previous_question_not_the_bad_back_one():
    c = at("home")
    c.says("go back to the last one", "change_answer")
    previous = Q.previous_before("home", c.slots["answers"])
    assert c.said() == ["change_ok", f"q.{previous}"] and not c.events("answer")


def test_ordinary_answers_stay_answers():
    for qid, text, intent in (("your_life_detail", "I stopped work last year", "opt_out"),
                              ("caring_tasks", "i have to go everywhere with her", "pause"),
                              ("what_would_help", "a carer to come in a few hours a week", "pause")):
        c = at(qid)
        c.says(text, intent, 0.7)
        assert c.events("answer") and c.events("answer")[0]["question"] == qid, text


def test_who_are_you_said_in_passing_is_still_the_question_about_the_service():
    c = at("lives_with")
    c.says("sorry who are you again?", "repeat", 0.6)
    assert c.said() == ["about_service", "q.lives_with"]


# -- answers recorded as meant ---------------------------------------------------------------------


def at(question):
    c = started()
    for _ in range(60):
        if c.slots["current_question"] == question:
            return c
        c.answer_current()
    raise AssertionError(f"never reached {question}")


def stored(c, qid):
    [answer] = [m for m in c.events("answer") if m["question"] == qid]
    return answer["value"], answer["status"], answer["raw"]


def test_no_choice_is_not_recorded_as_willing():
    c = at("willing_to_continue")
    c.says("I have no choice really", "deny")
    assert stored(c, "willing_to_continue") == ("no_choice", "answered", "I have no choice really")


def test_a_carer_who_gave_up_work_is_not_recorded_as_in_work():
    c = at("work_status")
    c.says("I had to give up my job to look after him")
    assert stored(c, "work_status") == ("gave_up", "answered", "I had to give up my job to look after him")
    assert c.slots["current_question"] != "work_impact"  # not asked how work is going


def test_yes_to_do_you_look_after_children_asks_how_it_goes():
    c = at("child_care")
    c.says("yes", "affirm")
    assert not c.events("answer") and c.said() == ["q.child_care.retry"]
    c.says("my mum has them after school, couldnt do it without her")
    # Both messages are kept; the reading is the second one's.
    assert stored(c, "child_care") == ("with_help", "answered",
                                       "yes / my mum has them after school, couldnt do it without her")


def test_a_plain_no_to_an_are_you_able_question_is_unable_not_unclear():
    for qid in ("recreation", "nutrition", "relationships"):
        c = at(qid)
        c.says("no", "deny")
        assert stored(c, qid) == ("cannot", "answered", "no")


def test_an_unsure_reading_is_checked_with_the_carer_then_stored():
    c = at("work_status")
    c.says("yes", "affirm")
    assert not c.events("answer")
    assert c.asked() == {"say": "q.work_status.confirm.work_now", "choices": ["choice.yes", "choice.no"]}
    c.says("yes thats right", "affirm")
    assert stored(c, "work_status") == ("work_now", "answered", "yes / yes thats right")
    assert c.slots["current_question"] == "work_impact"


def test_a_check_answered_with_new_words_takes_them():
    c = at("work_status")
    c.says("yes", "affirm")
    c.says("no im retired now", "deny")
    assert stored(c, "work_status") == ("no_work", "answered", "yes / no im retired now")


def test_no_to_a_check_asks_the_question_again_with_its_choices():
    c = at("home")
    c.says("struggling tbh")
    assert c.said() == ["confirm.distress"]
    c.says("no", "deny")
    assert c.said() == ["q.home.retry"] and c.asked()["choices"] == Q.choices_for("home")
    c.says("2")
    assert stored(c, "home") == ("with_help", "answered", "struggling tbh / no / 2")


def test_a_tapped_yes_confirms_even_if_the_nlu_hears_something_else():
    c = at("hours_week")
    c.says("a few hours a day")
    assert c.asked() == {"say": "q.hours_week.confirm", "vars": {"n": 21}, "choices": ["choice.yes", "choice.no"]}
    c.says("1. Yes", "skip")
    assert stored(c, "hours_week") == (21, "answered", "a few hours a day / 1. Yes")


def test_no_thats_wrong_to_a_check_is_not_going_back():
    c = at("nights")
    c.says("probably")
    assert c.said() == ["confirm.yes"]
    c.says("no thats wrong", "change_answer")
    assert c.said() == ["q.nights.retry"] and c.slots["current_question"] == "nights"


def test_what_cannot_be_read_is_stored_as_unclear_with_every_word():
    c = at("hours_week")
    c.says("loads")
    c.says("honestly no idea")
    assert stored(c, "hours_week") == (None, "unclear", "loads / honestly no idea")
    assert c.slots["current_question"] == "nights" and c.slots["heard"] is None


def test_a_check_after_a_long_gap_is_answered_not_recapped():
    c = at("work_status")
    c.says("yes", "affirm")
    c.says("yes", "affirm", hours=5)
    assert stored(c, "work_status")[0] == "work_now"


def test_an_unsure_reading_is_never_stored_without_a_check():
    c = at("willing_to_continue")
    c.says("i want to but its getting harder, i love him but im exhausted")
    for m in c.events("answer"):
        assert m["status"] in ("answered", "unclear")
    c = at("able_in_future")
    c.says("i hope so")
    assert not c.events("answer") and c.said() == ["q.able_in_future.confirm.yes"]
    c.says("dunno really")
    assert stored(c, "able_in_future") == ("not_sure", "answered", "i hope so / dunno really")


def test_a_life_event_at_a_free_text_question_needs_words_that_tell_it():
    c = at("your_life_detail")
    c.says("never any time for me", "wrong_number", 0.8)
    assert c.events("answer")[0]["question"] == "your_life_detail" and not c.events("opt_out")


def test_call_me_and_a_name_is_the_name_not_a_request_for_a_call():
    c = started()
    c.says("call me Jo", "human")
    assert c.asked()["say"] == "q.contact_times" and c.events("answer")[-1]["question"] == "name"
    c = started()
    c.says("call me back please", "human")
    assert c.events("handoff") == [{"event": "handoff", "reason": "asked_for_person"}] and not c.events("answer")
