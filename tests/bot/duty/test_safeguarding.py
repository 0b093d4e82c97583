"""The safeguarding screen: many phrasings trigger it, everyday sentences do not, and each tier of risk
gets its own answer: the carer's reply, the handoff's urgency and the duty alert."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from datetime import datetime, timezone

from bot.models import Conversation, Handoff, Message
from bot.duty.safeguarding import Tier, screen
from bot.messaging.worker import Dispatcher

# (what the carer texted, a flag it must raise)
MUST_TRIGGER = [
    # thoughts of suicide or self-harm, direct and indirect
    ("I want to kill myself", "suicide_self_harm"),
    ("i wanna kill my self", "suicide_self_harm"),
    ("KILL MYSELF", "suicide_self_harm"),
    ("I've been thinking about ending it all", "suicide_self_harm"),
    ("i want to end my life", "suicide_self_harm"),
    ("I don't want to be here any more", "suicide_self_harm"),
    ("I don\u2019t want to be here anymore", "suicide_self_harm"),
    ("i dont wanna be here", "suicide_self_harm"),
    ("I DONT WANT TO BE HERE ANYMORE", "suicide_self_harm"),
    ("whats the point of anything", "suicide_self_harm"),
    ("what's the point in living", "suicide_self_harm"),
    ("wats the point", "suicide_self_harm"),
    ("there's no point going on", "suicide_self_harm"),
    ("everyone would be better off without me", "suicide_self_harm"),
    ("I wish I was dead", "suicide_self_harm"),
    ("some nights i just want to go to sleep and not wake up", "suicide_self_harm"),
    ("i want to die", "suicide_self_harm"),
    ("I feel suicidal", "suicide_self_harm"),
    ("been having sucidal thoughts", "suicide_self_harm"),
    ("I've started cutting myself again", "suicide_self_harm"),
    ("i self harm when it gets bad", "suicide_self_harm"),
    ("I took an overdose last week", "suicide_self_harm"),
    ("im going to take all my tablets tonight", "suicide_self_harm"),
    ("ive been hurting myself", "suicide_self_harm"),
    ("I cant see a way out", "suicide_self_harm"),
    ("I just want it all to stop", "suicide_self_harm"),
    ("I've had enough of life", "suicide_self_harm"),
    ("no reason to live", "suicide_self_harm"),
    ("life isnt worth living", "suicide_self_harm"),
    ("tired of living like this", "suicide_self_harm"),
    ("i wont be here tomorrow", "suicide_self_harm"),
    ("i kil myslef if this goes on", "suicide_self_harm"),
    # harm to the person cared for
    ("I'm scared I'll hurt him", "harm_by_carer"),
    ("I nearly hit her today", "harm_by_carer"),
    ("i shook him last night and im so ashamed", "harm_by_carer"),
    ("Im going to lose it with her", "harm_by_carer"),
    ("I lost my temper and slapped mum", "harm_by_carer"),
    ("sometimes I want to put a pillow over her face", "harm_by_carer"),
    ("I'm afraid of what I might do", "harm_by_carer"),
    ("I feel like hitting my husband", "harm_by_carer"),
    # harm from the person cared for
    ("he went for me again last night", "harm_to_carer"),
    ("she hit me", "harm_to_carer"),
    ("my husband hits me when he's confused", "harm_to_carer"),
    ("Dad threw a plate at me", "harm_to_carer"),
    ("he grabbed me by the throat", "harm_to_carer"),
    ("im scared of him", "harm_to_carer"),
    ("he threatened to kill me", "harm_to_carer"),
    ("she bit me again", "harm_to_carer"),
    ("he pushed me down the stairs", "harm_to_carer"),
    ("hes getting violent", "harm_to_carer"),
    ("she lashes out at me every night", "harm_to_carer"),
    ("my son won't let me leave the house", "harm_to_carer"),
    # abuse or neglect
    ("my brother keeps taking her money", "abuse_of_cared_for"),
    ("the carers are rough with him", "abuse_of_cared_for"),
    ("I think she is being abused", "abuse_of_cared_for"),
    ("nobody has fed him for days", "abuse_of_cared_for"),
    ("he's been left in a soiled bed all day", "abuse_of_cared_for"),
    ("I think the care home is neglecting her", "abuse_of_cared_for"),
    ("she's sitting in her own mess", "abuse_of_cared_for"),
    # a medical emergency
    ("she's not breathing", "medical_emergency"),
    ("he's collapsed", "medical_emergency"),
    ("mum is unconscious", "medical_emergency"),
    ("I can't wake him up", "medical_emergency"),
    ("i think shes having a stroke", "medical_emergency"),
    ("he has chest pains", "medical_emergency"),
    ("need an ambulance", "medical_emergency"),
    ("hes turning blue", "medical_emergency"),
    ("he fell and hit his head and there is blood everywhere", "medical_emergency"),
    ("she's fallen and cant get up", "medical_emergency"),
    ("he is having a fit", "medical_emergency"),
    # cannot cope
    ("I can't cope any more", "breaking_point"),
    ("i cant cope", "breaking_point"),
    ("CANT COPE ANYMORE", "breaking_point"),
    ("i cnt cope", "breaking_point"),
    ("I'm at breaking point", "breaking_point"),
    ("I'm at the end of my tether", "breaking_point"),
    ("I can't do this anymore", "breaking_point"),
    ("i cnt take it any more", "breaking_point"),
    ("I'm falling apart", "breaking_point"),
    ("Im not coping", "breaking_point"),
    ("honestly I'm drowning", "breaking_point"),
    ("this is killing me", "breaking_point"),
    ("I cant carry on like this", "breaking_point"),
    ("i cant go on", "breaking_point"),
    ("I've had enough", "breaking_point"),
    ("I'm having a breakdown", "breaking_point"),
    ("cant   cope!!!!!", "breaking_point"),
]

# Everyday sentences with an alarming word in them: the screen stays quiet.
MUST_NOT_TRIGGER = [
    "I have no choice really",  # willing to care? one of the offered answers, in the carer's words
    "I could murder a cup of tea",
    "I could kill for a holiday",
    "my back is killing me",
    "my feet are killing me after the hospital run",
    "I'm dying to get a break",
    "the cake was to die for",
    "I nearly died laughing at the quiz",
    "I'm dead tired most days",
    "my phone died halfway through",
    "we watched a murder mystery on Sunday",
    "I hurt my back lifting him",
    "he hurt his knee in the garden",
    "I cut myself a slice of cake",
    "I hit the shops early before he wakes",
    "she hit the jackpot at bingo",
    "my dad used to hit the bottle",
    "he takes all his tablets at breakfast",
    "I don't want to be here all day waiting for the nurse",
    "what's the point of this question",
    "I can cope with the washing",
    "I can't manage it",
    "It is hard",
    "I'm scared of spiders",
    "he went for a walk with his friend",
    "in an emergency my sister would step in",
    "I don't have an emergency plan",
    "killing time in the hospital car park",
    "I'm not sure, maybe 20 hours",
    "Yes",
    "he has dementia and I help him wash and dress",
    "I can't take it to the tip, the car is broken",
    "HELP",
    "I'm desperate for a holiday",
    "she gets breathless on the stairs",
    "we have a fit of giggles most evenings",
]

IDIOMS_AND_DENIALS = [
    "I could murder a cup of tea", "my back is killing me", "I'm dying to get a break", "the cake was to die for",
    "I nearly died laughing at the quiz", "my phone died halfway through", "no abuse or anything like that",
    "I would never hurt her", "not suicidal, just tired",
]

# False alarms we accept rather than risk missing a real disclosure: these do flag, on purpose.
ACCEPTED_FALSE_ALARMS = [
    "I could kill him sometimes, he never puts the lid back on",
    "we had to call an ambulance last year when he fell",
    "I was choking back tears at the appointment",
]


@pytest.mark.parametrize("text,flag", MUST_TRIGGER)
def test_disclosure_triggers_the_screen(text, flag):
    concern = screen(text)
    assert concern is not None, text
    assert flag in concern.flags, (text, concern.flags)


@pytest.mark.parametrize("text", MUST_NOT_TRIGGER)
def test_everyday_sentence_does_not_raise_a_risk(text):
    # The uncertain zone may ask "are you safe right now?" (about 5% of ordinary answers, docs/safeguarding.md);
    # an everyday sentence must never stop the assessment.
    concern = screen(text)
    assert concern is None or concern.tier < Tier.RISK_DISCLOSED, (text, concern)


@pytest.mark.parametrize("text", IDIOMS_AND_DENIALS)
def test_idioms_and_denials_stay_quiet(text):
    assert screen(text) is None, (text, screen(text))


def test_a_picked_choice_is_an_answer_not_a_worry(phone, services, twilio, rasa):
    replies = carer_texts(phone, services, twilio, "+447700900139", "3. I can't manage it")
    assert replies == ["got: 3. I can't manage it"]  # on to the dialogue model, no safety question


@pytest.mark.parametrize("text", ACCEPTED_FALSE_ALARMS)
def test_accepted_false_alarms_still_flag(text):
    assert screen(text) is not None


def test_there_are_many_cases():
    assert len(MUST_TRIGGER) + len(MUST_NOT_TRIGGER) >= 60


def test_crisis_reply_and_duty_alert_both_go_out(phone, services, settings, twilio, rasa):
    services.settings = settings.with_(duty_phone="+447700900999")
    phone("+447700900123").send("he went for me again last night")
    Dispatcher(services).run_once()
    services.outbox.send_due()
    sent = twilio.messages()
    to_carer = [m["body"] for m in sent if m["to"] == "+447700900123"]
    to_duty = [m["body"] for m in sent if m["to"] == "+447700900999"]
    assert any("999" in b for b in to_carer)
    assert any("person" in b for b in to_carer)
    assert len(to_duty) == 1 and "URGENT" in to_duty[0] and "harm_to_carer" in to_duty[0]
    assert any("0808 2000 247" in b for b in to_carer)  # the domestic abuse line, for harm to the carer
    assert "went for me" not in to_duty[0]  # the carer's words never go to the duty phone
    assert rasa.seen == []  # the dialogue model never saw it
    with services.db.session() as s:
        handoff = s.scalars(select(Handoff)).one()
        assert (handoff.reason, handoff.urgency, handoff.state) == ("safeguarding", "urgent", "open")
        assert s.scalars(select(Conversation)).one().state == "person"


def carer_texts(phone, services, twilio, number: str, text: str) -> list[str]:
    """Send one message, let the workers handle it, and return what the carer was sent in reply."""
    before = len([m for m in twilio.messages() if m["to"] == number])
    phone(number).send(text)
    Dispatcher(services).run_once()
    services.outbox.send_due()
    return [m["body"] for m in twilio.messages() if m["to"] == number][before:]


def handoffs(services) -> list[tuple[str, str, str]]:
    with services.db.session() as s:
        return [(h.reason, h.urgency, h.state) for h in s.scalars(select(Handoff).order_by(Handoff.id))]


# (message, the least tier a duty social worker would give it)
TIERS = [
    ("he's not breathing and his lips are blue", Tier.DANGER_NOW),
    ("I've just taken all my tablets", Tier.DANGER_NOW),
    ("i want to kill myself", Tier.RISK_DISCLOSED),
    ("my brother keeps taking her pension", Tier.RISK_DISCLOSED),
    ("I can't cope any more", Tier.STRAIN),
]


@pytest.mark.parametrize("text,least", TIERS)
def test_each_message_gets_at_least_its_tier(text, least):
    concern = screen(text)
    assert concern is not None and concern.tier >= least, (text, concern)


@pytest.mark.parametrize("text", ["no abuse or anything like that", "I would never hurt him",
                                  "did a safeguarding course at work today, all about abuse"])
def test_denials_and_courses_do_not_raise_a_risk(text):
    concern = screen(text)
    assert concern is None or concern.tier < Tier.RISK_DISCLOSED, (text, concern)


def test_danger_now_puts_999_first_and_alerts_at_once(phone, services, settings, twilio, rasa):
    services.settings = settings.with_(duty_phone="+447700900999")
    replies = carer_texts(phone, services, twilio, "+447700900131", "mum has collapsed and wont wake up")
    assert "999" in replies[0]  # the first thing the carer reads
    assert handoffs(services) == [("safeguarding", "urgent", "open")]
    assert [m for m in twilio.messages() if m["to"] == "+447700900999"]
    assert rasa.seen == []


def test_suicidal_thoughts_get_the_mental_health_lines(phone, services, twilio, rasa):
    replies = carer_texts(phone, services, twilio, "+447700900132", "some days I wish I could just not wake up")
    text = " ".join(replies)
    assert "116 123" in text and "85258" in text and "111" in text
    assert handoffs(services) == [("safeguarding", "urgent", "open")]


def test_strain_asks_if_they_are_safe_and_carries_on_when_they_are(phone, services, twilio, rasa):
    number = "+447700900133"
    replies = carer_texts(phone, services, twilio, number, "I'm at breaking point with it all")
    assert len(replies) == 1 and "are you safe right now" in replies[0].lower()
    assert handoffs(services) == [("safety_check", "soon", "open")]  # a person checks in, not a crisis
    assert rasa.seen == []
    replies = carer_texts(phone, services, twilio, number, "yes I'm safe")
    assert "carry on" in replies[0]
    assert [t for _, t, _ in rasa.seen] == ["/repeat"]  # the question they were on, asked again
    with services.db.session() as s:
        answer = s.scalar(select(Message).where(Message.body == "yes I'm safe"))
        kinds = list(s.scalars(select(Message.kind).where(Message.in_reply_to_id == answer.id).order_by(Message.id)))
    assert kinds == ["crisis", "reply"]  # the thank-you belongs to the safety exchange; the question once
    carer_texts(phone, services, twilio, number, "about 40 hours")
    assert [t for _, t, _ in rasa.seen][-1] == "about 40 hours"  # the assessment goes on


def test_not_safe_after_the_safety_question_is_a_crisis(phone, services, twilio, rasa):
    number = "+447700900134"
    carer_texts(phone, services, twilio, number, "I can't cope any more")
    replies = carer_texts(phone, services, twilio, number, "no")
    assert any("999" in b for b in replies)
    assert ("safeguarding", "urgent", "open") in handoffs(services)


def test_while_a_person_has_the_case_messages_are_acknowledged_once_an_interval(phone, services, clock, twilio,
                                                                                rasa):
    number = "+447700900135"
    carer_texts(phone, services, twilio, number, "he punched me last night")
    first = carer_texts(phone, services, twilio, number, "hello?")
    assert first == [] or all("999" in b for b in first)  # the crisis reply itself counts as the word
    clock.advance(minutes=services.settings.safeguarding_ack_minutes + 1)
    ack = carer_texts(phone, services, twilio, number, "is anyone there")
    assert len(ack) == 1 and "has your messages" in ack[0] and "999" in ack[0]
    assert carer_texts(phone, services, twilio, number, "ok") == []  # once an interval, not every message
    assert rasa.seen == []  # a person holds the conversation


def test_a_second_disclosure_while_a_person_has_the_case_is_answered_again(phone, services, settings, twilio,
                                                                         rasa):
    services.settings = settings.with_(duty_phone="+447700900998")
    number = "+447700900136"
    carer_texts(phone, services, twilio, number, "my son takes her money every week")
    replies = carer_texts(phone, services, twilio, number, "i want to end my life")
    assert any("116 123" in b for b in replies)
    assert len([m for m in twilio.messages() if m["to"] == "+447700900998"]) == 2  # the duty team hears again


def test_out_of_hours_the_reply_gives_the_emergency_duty_team(phone, services, settings, clock, twilio, rasa):
    services.settings = settings.with_(duty_phone="+447700900997", emergency_duty_phone="0300 123 4567")
    clock.set(datetime(2026, 11, 28, 23, 30, tzinfo=timezone.utc))  # a Saturday night
    replies = carer_texts(phone, services, twilio, "+447700900137", "he hit me again tonight")
    assert any("closed" in b and "0300 123 4567" in b for b in replies)
    alert = [m["body"] for m in twilio.messages() if m["to"] == "+447700900997"]
    assert alert and "Out of hours" in alert[0]


def test_in_office_hours_no_out_of_hours_words(phone, services, settings, twilio, rasa):
    services.settings = settings.with_(emergency_duty_phone="0300 123 4567")
    replies = carer_texts(phone, services, twilio, "+447700900138", "he hit me again tonight")
    assert not any("0300 123 4567" in b for b in replies)
