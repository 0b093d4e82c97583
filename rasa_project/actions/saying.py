"""What a carer's words ask for besides an answer: commands in their own words, life events, a time to come back.

The model hears most of it; these patterns are the evidence a command needs to win over an answer, and the
few phrasings no answer is ever written in, which win whatever the model heard. All match normalised text.
"""

from __future__ import annotations

import re
from typing import Optional

PEOPLE = (r"(mum|mam|mom|mother|mummy|dad|father|daddy|husband|hubby|wife|partner|son|daughter|brother|sister|"
          r"nan|nana|nanna|gran|granny|grandma|grandad|grandpa|grandfather|grandmother|aunt|auntie|uncle|friend|"
          r"him|her|them|he|she)")
TIME = (r"(tomorrow|tomoz|tmrw|tmr|2moro|2morrow|tonight|tonite|this (evening|afternoon|morning)|"
        r"later (today|tonight|on)|(next|after the|at the|this) (week|weekend|bank holiday)|weekend|"
        r"(on |next |this )?(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|wed|thurs|fri|sat|sun)|"
        r"in (a|an|one|two|three|four|five|a few|a couple of|couple of|couple|\d+) (days?|hours?|hrs?|weeks?)|"
        r"in a day or two|in a week|(give me|wait|leave it|leave me) (a|an|one|two|three|a few|a couple of|couple of|"
        r"a couple|\d+) (days?|hours?|weeks?))")
CLOCK = r"(after|at|about|around|from|by) \d{1,2}([:.]\d{2})? ?(am|pm)?"
# The time with the part of the day or the hour beside it: "tomorrow evening", "tonight after 8".
WHEN = (r"(" + CLOCK + r" )?" + TIME + r"( (morning|lunchtime|afternoon|teatime|evening|night))?( " + CLOCK + r")?")
# "every monday" or "only at weekends" is when they like texts (a contact window), not when to come back;
# "a few hours a week" is how much.
RECURRING = (r"\b(every|only|always|usually|any|mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|sundays|"
             r"weekends|(?<!in )(a|per|each) (day|week|month|night))\b")
# Words that ask to hear from us at that time ("text me", "try again", "would be better"), or say it is a no.
COME_BACK = (r"\b(text|message|msg|remind|reminder|contact|try|get back|come back|back|carry on|continue|finish|do|"
             r"pick|later|better|free|then|again|until|till|maybe|would be|works|easier|instead|please|pls|in touch)\b")

EVIDENCE = {
    "pause": (r"\b(got|have|need|gotta|must|going) to go\b(?! (to|with|everywhere|anywhere|out|in|into|through|on)\b)|"
              r"\b(pause|later|l8r|laters|gotta|gta|gtg|g2g|brb|bed|good ?night|night night|nighty|nite|"
              r"tomorrow|tmrw|tomoz|2moro|another (time|day|night)|dash|busy|rn|sec|secs|min|mins|minute|minutes|"
              r"hang|hold|wait|tired|try again|give me|knackered|shattered|asleep|exhausted|stop (here|there|now|for)|"
              r"stopping|done|leave it|come back|get back|save|calling|"
              r"shouting|woke|awake|up again|needs me|off|on hold|not a good time|right now|for now|pop out|"
              r"battery|after|when i get|kicking off|at the door|at work|on the bus|running late|worn out|too tired|tonight|"
              r"tonite)\b"),
    "human": (r"\b(can|could|may|want|wanna|like|let|put|get|need|rather|prefer|arrange|have|easier)\b.*\b(speak|spk|speek|"
              r"talk|chat|person|human|someone|somebody|some1|sum1|call|ring|phone|phoned|visit|come (out|round|over|"
              r"to))\b|\b(call|ring|phone) me\b|^\W*(person|human|agent|operator)\W*$|real person|actual person|"
              r"human being|social worker|face to face|pop round|\b(not|never) (very |that |too |so )?(good|great|"
              r"confident) (with|at|on)\b|\binstead\b|\bby phone\b|\bover the phone\b|\b(rather|prefer)\b.*\b(talk|"
              r"speak|call|chat)"),
    "opt_out": (r"\b(stop|quit|no more|dont|don't|do not|never)\b.*\b(text|messag|msg|contact|sms|send)\w*|"
                r"\b(unsub\w*|opt ?(me )?out|take (me|my number|my details) off|off (your|the) (list|system)|leave me alone|"
                r"remove me|remove my (number|details)|"
                r"stop all|stop it|please stop|stop please|stop pls|count me out|want out|not interested|"
                r"no longer (want|wish|interested)|(don't|dont|do not) want (to do )?(this|these|it)|"
                r"(don't|dont|do not) want to (do|carry on with|continue with|take part)|"
                r"changed my mind|decided not to|(no|any) more of (this|these))\b"),
    "erase": r"\b(delet\w*|delte\w*|erase|remov\w*|wipe|forget|clear|bin|scrap|rid|withdraw|data|info\w*|records?|destroy)\b",
    "help": (r"^\W*\w+(\W+\w+){0,3}\W*$|\b(what can|how do|how does|how (this|it) works|how to|bot|robot|computer|"
             r"options|menu|info|instructions|commands|stuck|lost|meant to|supposed to|what do i|what to do|help|understand|"
             r"how to answer)\b"),
    "what_is_this": (r"\b(who (are|r) (you|u)|who is (this|texting|it)|who's this|whos this|what is this|"
                     r"what's this|whats this|what are (you|u)|carertext|is this (the council|real|genuine|legit|"
                     r"a scam|really|from)|scam|genuine|legit|who gave you|got my number|why am i getting|"
                     r"what organisation|who (sent|is sending)|who you are|is this (a )?real|for real|why (are|is) (you|this|someone) "
                     r"(messag|text|contact)\w*|who's texting|whos texting|are (you|u) from)\b"),
    "who_sees": (r"\b(who (sees|will see|can see|gets to see|reads|will read|has access|will have access)|"
                 r"(see|read) (my|these|this|what)|private|confidential|secret|shared?|happens to (my|the|what)|"
                 r"do with (my|what|the)|where (does|do|will) (this|my|the|it)|access|pass(ed)? (this |it |my answers )?on|"
                 r"happens (with|to))\b"),
    "how_long": (r"\b(how long|how many|how much (longer|more|is left)|nearly (done|finished|there|over)|"
                 r"much more|take long|questions left|left to go|how far|(a lot|many|much) more|much longer)\b"),
    "back": (r"\b(change|chnage|chang|go back|back one|back a|previous|prev|wrong|mistake|meant|edit|amend|"
             r"correct|redo|undo|fix|update|oops|typo)\b|^\W*(go )?back( please| pls| one| a bit)?\W*$"),
}

_DIED = (r"\b(died|has died|passed away|passed on|has passed|passed|lost " + PEOPLE + r"|lost my \w+|"
         r"(he's|she's|hes|shes|he is|she is|he has|she has) gone(?! (in|into|to|out|off|for|back|home|up|down|away|"
         r"over|on|through|round|quiet|a bit|downhill|worse|missing)\b)|no longer with us|funeral)\b")
# A death told as the past of the caring ("mum died two years ago and now I care for dad"), a pet, a job.
_DIED_BEFORE = (r"\b(years?|yrs|months ago|last year|since|used to|now i (care|look|help)|now (care|look)|"
                r"dog|cat|pet|lost (my |our |the )?(job|work|weight|keys|phone|sleep|temper|house|home|way))\b")
_PLACE = (r"\b(care home|nursing home|residential( care| home)?|a home|hospital|hospice|a e|a and e|"
          r"ward|respite)\b")
_THERE_NOW = (r"\b(is|are|is now|has (gone|been|moved)|gone|went|moved|moving|taken|admitted|kept in|"
              r"now (lives|living|in)|lives in|living in|got a place|been in|in hospital|into|in a|in the)\b")
_PLACE_OTHERWISE = (r"\b(appointments?|treatment|check ?ups?|clinic|every (week|day|month)|visits?|visiting|"
                    r"used to|came (home|back)|back home|home again|next (week|month)|due to|operation|in and out|"
                    r"a lot|lots|often|sometimes|twice|times|this year|before|works? (in|at)|job|shifts?|when (he|she) (goes|went|has to|had to|was|is)|if (he|she)|would|"
                    r"could|might|worried|scared|afraid|don't want|dont want|years)\b")
_WRONG_NUMBER = (r"\b(wrong (number|num|no|person|phone|contact|people|mobile)(?! of)|not a carer|"
                 r"(don't|dont|do not) (care for|look after) any ?(one|body)|meant for (someone|somebody) else|"
                 r"not who you think|never (asked|signed up) for|not the (person|one) you want)\b")
# "I put the wrong number": an answer to change, not a number that is not theirs.
_WRONG_ANSWER = (r"\b(put|typed|pressed|gave|entered|hit|picked|chose|chosen|wrote|said|answered|clicked|tapped|"
                 r"selected|sent)\b.{0,12}\bwrong\b")
# "I'm not a carer, I'm his wife": a carer who does not call themselves one.
_A_CARER_ALL_THE_SAME = r"\b(just|only|his|her|their|wife|husband|mum|mam|daughter|son|partner|family)\b"

CLEAR = {
    "opt_out": (r"\b(stop|quit) (texting|messaging|sending|contacting|txting|msging)\b|\btake me off\b|"
                r"\bremove (me|my number)\b|\bunsubscribe\b|\b(don't|dont|do not) (text|message|contact) me\b|"
                r"\bno more (texts|messages)\b|\bno longer (want|wish) to (take part|do this|be contacted|receive)\b|"
                r"\b(don't|dont|do not) want to (do this|be contacted|receive|get) (any ?more|again)?|"
                r"\b(don't|dont|do not) (text|message|contact) (me )?again\b|\bcount me out\b"),
    "human": (r"\b(can|could|would|will|please)\b.{0,20}\b(someone|somebody|some1|sum1|a person|a worker|"
              r"a social worker|you|one of you)\b.{0,12}\b(call|ring|phone|visit|come (out|round|over|to))\b|"
              r"\b(i'd|id|i would|i'd much|i would much) (rather|prefer)\b.{0,25}\b(phone|call|talk|speak|"
              r"chat|person|someone|somebody)\b|\b(not|never) (very |that |too |so )?(good|great|confident) "
              r"(with|at|on) (text|texting|typing|phones?|this|these|technology|messages)\b|"
              r"\b(speak|talk|chat) (to|with) (a |an |the )?(real |actual )?(person|human|someone|somebody|some1|sum1|"
              r"worker|social worker|member of (the )?(team|staff))\b|\b(call|ring|phone) me (instead|back|please|pls)\b|"
              r"\b(someone|somebody|a worker|a social worker)\b.{0,10}\b(pop (round|over|in|by)|come and see me)\b"),
    "what_is_this": (r"^\W*(who (are|r) (you|u)|who is (this|it)|who's this|whos this|what is this|what's this|"
                     r"whats this)\W*$|\bwho (you are|this is|are you|r u|is this)\b"),
    "who_sees": (r"\b(who|will|would|can|could|does|do|is)\b(?! i\b).{0,25}\b(see|read|sees|reads|access|shared?|passed on)\b"
                 r".{0,6}\b(my answers|my replies|these|this|what i (write|put|say|said|type|tell))\b|"
                 r"\bwho (sees|reads|will see|will read|gets to see)\b"),
    "how_long": (r"^\W*(are we |am i )?(nearly|almost) (done|finished|there|over)\W*$|"
                 r"\bhow long\b.{0,20}\b(take|left|last|is (this|it))\b|\bhow many (more )?questions\b"),
    "help": r"\b(help|hand) (me )?(using|with using|to use) (this|it)\b|\bhow (do|does) (this|it|i use)\b",
    "summary": r"\bwhat (did|have) i (tell|told|say|said|put|written|write|answer|answered)\b",
    "pause": (r"\b(carry on|continue|finish|do (this|it|the rest)|pick (this|it) up)\b.{0,20}\b(later|another (time|day|"
              r"night)|some other time|other time|next time)\b|"
              r"\b(have|got|need|gotta|going|must) to (go|dash|run|leave)\b(?! (to|into|in|out|with|through|on|up|for|"
              r"everywhere|anywhere|without|work)\b).*\b(sorry|now|bye|back|later|soon|x)\b|"
              r"^\W*sorry\W+(have|got|need|gotta) to (go|dash|run|leave)\b|"
              r"\b(finish|do|answer|carry on with|complete) (this|it|the rest|these|them|off)?\s?(later|after|another|"
              r"when|tomorrow|tonight|at the weekend)\b|\bwhen i get a (minute|moment|chance|sec)\b|"
              r"\b(will|i'll|ill) finish (this|it|the rest|off|later|after|when|tomorrow)\b"),
}


LIFE_EVENTS = ("bereavement", "care_home_or_hospital", "wrong_number")
# At a free-text question a life event, like a command, needs words that tell it ("never any time for me"
# is an answer, whatever the model heard).
EVIDENCE.update({
    "bereavement": _DIED + r"|\b(funeral|rip|no longer with us|gone now|lost (him|her))\b",
    "care_home_or_hospital": _PLACE,
    "wrong_number": _WRONG_NUMBER + r"|\b(who (is|are) (this|you)|(dont|do not|don't) know (you|who|what this)|"
                    r"never (heard|signed|asked)|no idea (who|what)|nothing to do with me|not me|not mine|"
                    r"(dont|do not|don't) (look after|care for) (anyone|anybody|any one))\b",
})
# Questions about the service and the assessment: answered, then the question is asked again, so cheap to mistake.
ASIDES = ("help", "what_is_this", "who_sees", "how_long", "summary", "repeat")
# Help a carer would like from time to time, not a person now.
NOW_AND_THEN = r"\b(once|every|now and then|sometimes|regularly|each|a week|a month|from time to time|now and again)\b"
_BEFORE = {"bereavement": _DIED_BEFORE, "care_home_or_hospital": _PLACE_OTHERWISE, "wrong_number": _A_CARER_ALL_THE_SAME}


def told_before(event: str, text: str) -> bool:
    """Whether a life event is told as the past of the caring, or something else, rather than as news."""
    return bool(re.search(_BEFORE[event], text))


# "call me Jo" to "what should we call you?" gives a name; "call me back" or "call me tonight" asks for a call.
_NOT_A_NAME = (r"back|please|pls|plz|instead|later|l8r|tomorrow|tmrw|today|tonight|on|at|in|when|after|before|asap|"
               r"now|soon|sometime|some|any|if|mon|monday|tue|tuesday|wed|wednesday|thu|thursday|fri|friday|sat|"
               r"saturday|sun|sunday|morning|afternoon|evening|this|next|a|an|the|about|to|urgently|x")
CALLED = (r"(hi |hello |hiya )?(you can |please |pls |just |everyone |people |my friends |they )*(call|calls) me "
          rf"(?!({_NOT_A_NAME})\b)[a-z]+( [a-z]+)?( please| pls| thanks| thank you| x| is fine| is ok)?")


def gives_name(text: str) -> bool:
    """Whether the words are a name given ("call me Jo"), not a request for a call (text already normalised)."""
    return bool(re.fullmatch(CALLED, text))


def says(command: str, text: str) -> bool:
    """Whether the words bear the command out (text already normalised)."""
    pattern = EVIDENCE.get(command)
    if command == "pause" and pause_time(text):
        return True
    if command == "human" and gives_name(text):
        return False
    return pattern is None or bool(re.search(pattern, text))


def clear_command(text: str) -> Optional[str]:
    """A command or life event the words leave no doubt about, whatever the model heard; else None."""
    if re.search(_WRONG_NUMBER, text) and not re.search(_WRONG_ANSWER, text) and not (
            "not a carer" in text and re.search(_A_CARER_ALL_THE_SAME, text)):
        return "wrong_number"
    if re.search(_DIED, text) and not re.search(_DIED_BEFORE, text):
        return "bereavement"
    if re.search(_PLACE, text) and re.search(_THERE_NOW, text) and not re.search(_PLACE_OTHERWISE, text):
        return "care_home_or_hospital"
    for command, pattern in CLEAR.items():
        if re.search(pattern, text):
            return command
    if pause_time(text):
        return "pause"
    return None


def pause_time(text: str) -> Optional[str]:
    """The words that say when to come back ("tomorrow evening"), when they name a time rather than a habit.

    "Too tired tonight" and "not this week" say when not to: a time needs words asking to hear from us then,
    unless it is all the message says."""
    if re.search(RECURRING, text):
        return None
    for m in re.finditer(r"\b" + WHEN + r"\b", text):
        if re.search(r"\b(not|too \w+|for)\s+$", text[:m.start()]):
            continue
        rest = (text[:m.start()] + " " + text[m.end():]).strip()
        if not rest or re.search(COME_BACK, rest) or re.fullmatch(r"(ok|okay|sorry|maybe|erm|um|x+)?", rest):
            return m.group(0).strip()
    return None
