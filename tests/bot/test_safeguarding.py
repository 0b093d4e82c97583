"""The safeguarding screen: many phrasings trigger it, everyday sentences mostly do not, and a hit
reaches both the carer (crisis options) and the duty phone at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import Conversation, Handoff, Message
from bot.safeguarding import screen
from bot.worker import Dispatcher

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
    ("I'm scared I'll hurt him", "harm_to_cared_for"),
    ("I nearly hit her today", "harm_to_cared_for"),
    ("i shook him last night and im so ashamed", "harm_to_cared_for"),
    ("Im going to lose it with her", "harm_to_cared_for"),
    ("I lost my temper and slapped mum", "harm_to_cared_for"),
    ("sometimes I want to put a pillow over her face", "harm_to_cared_for"),
    ("I'm afraid of what I might do", "harm_to_cared_for"),
    ("I feel like hitting my husband", "harm_to_cared_for"),
    # harm from the person cared for
    ("he went for me again last night", "harm_from_cared_for"),
    ("she hit me", "harm_from_cared_for"),
    ("my husband hits me when he's confused", "harm_from_cared_for"),
    ("Dad threw a plate at me", "harm_from_cared_for"),
    ("he grabbed me by the throat", "harm_from_cared_for"),
    ("im scared of him", "harm_from_cared_for"),
    ("he threatened to kill me", "harm_from_cared_for"),
    ("she bit me again", "harm_from_cared_for"),
    ("he pushed me down the stairs", "harm_from_cared_for"),
    ("hes getting violent", "harm_from_cared_for"),
    ("she lashes out at me every night", "harm_from_cared_for"),
    ("my son won't let me leave the house", "harm_from_cared_for"),
    # abuse or neglect
    ("my brother keeps taking her money", "abuse_neglect"),
    ("the carers are rough with him", "abuse_neglect"),
    ("I think she is being abused", "abuse_neglect"),
    ("nobody has fed him for days", "abuse_neglect"),
    ("he's been left in a soiled bed all day", "abuse_neglect"),
    ("I think the care home is neglecting her", "abuse_neglect"),
    ("she's sitting in her own mess", "abuse_neglect"),
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
    ("I can't cope any more", "cannot_cope"),
    ("i cant cope", "cannot_cope"),
    ("CANT COPE ANYMORE", "cannot_cope"),
    ("i cnt cope", "cannot_cope"),
    ("I'm at breaking point", "cannot_cope"),
    ("I'm at the end of my tether", "cannot_cope"),
    ("I can't do this anymore", "cannot_cope"),
    ("i cnt take it any more", "cannot_cope"),
    ("I'm falling apart", "cannot_cope"),
    ("Im not coping", "cannot_cope"),
    ("honestly I'm drowning", "cannot_cope"),
    ("this is killing me", "cannot_cope"),
    ("I cant carry on like this", "cannot_cope"),
    ("i cant go on", "cannot_cope"),
    ("I've had enough", "cannot_cope"),
    ("I'm having a breakdown", "cannot_cope"),
    ("cant   cope!!!!!", "cannot_cope"),
]

# Everyday sentences with an alarming word in them: the screen stays quiet.
MUST_NOT_TRIGGER = [
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
def test_everyday_sentence_does_not_trigger(text):
    assert screen(text) is None, (text, screen(text))


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
    assert any("999" in b and "116 123" in b and "85258" in b for b in to_carer)
    assert any("person" in b for b in to_carer)
    assert len(to_duty) == 1 and "URGENT" in to_duty[0] and "harm_from_cared_for" in to_duty[0]
    assert "went for me" not in to_duty[0]  # the carer's words never go to the duty phone
    assert rasa.seen == []  # the dialogue model never saw it
    with services.db.session() as s:
        handoff = s.scalars(select(Handoff)).one()
        assert (handoff.reason, handoff.urgency, handoff.state) == ("safeguarding", "urgent", "open")
        assert s.scalars(select(Conversation)).one().state == "person"


def test_while_paused_the_bot_stays_silent_but_a_new_disclosure_still_answers(phone, services, twilio, rasa):
    p = phone("+447700900124")
    p.send("I can't cope any more")
    Dispatcher(services).run_once()
    p.send("ok thanks")
    Dispatcher(services).run_once()
    assert rasa.seen == []
    with services.db.session() as s:
        inbound = s.scalars(select(Message).where(Message.direction == "in")).all()
        assert [m.state for m in inbound] == ["done", "done"]
    before = len(twilio.messages())
    p.send("i want to die")
    Dispatcher(services).run_once()
    assert len(twilio.messages()) == before + 2  # crisis options again, at once
