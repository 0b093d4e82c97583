"""Turn the way carers text into answer values: yes/no, numbers, scales and choices.

Each reader gives a Reading: the value and whether it is sure. A reading that is not sure is put to the
carer in one short question before it is stored; no reading at all means asking again, then storing the
answer as unclear with the carer's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

_PUNCT = re.compile(r"[^\w\s/'-]+")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-case, strip punctuation and emoji, collapse spaces."""
    text = (text or "").lower().replace("\u2019", "'").replace("\u2018", "'")
    text = text.replace("\U0001F44D", " yes ").replace("\U0001F44E", " no ")
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


# Text-speak and common misspellings, word by word, so the phrase lists below need one spelling each.
_SPELLING = {
    "dont": "don't", "dnt": "don't", "doesnt": "doesn't", "didnt": "didn't", "cant": "can't", "cnt": "can't",
    "cannae": "can't", "carnt": "can't", "wont": "won't", "isnt": "isn't", "arent": "aren't", "wasnt": "wasn't",
    "havent": "haven't", "havnt": "haven't", "hasnt": "hasn't", "couldnt": "couldn't", "wouldnt": "wouldn't",
    "shouldnt": "shouldn't", "aint": "ain't", "im": "i'm", "ive": "i've", "id": "i'd", "u": "you", "ur": "your",
    "r": "are", "yh": "yes", "ye": "yes", "ya": "yes", "yah": "yes", "yeh": "yes", "yea": "yes", "yeah": "yes",
    "yep": "yes", "yup": "yes", "yas": "yes", "ys": "yes", "aye": "yes", "yess": "yes", "noo": "no", "nah": "no",
    "naw": "no", "nope": "no", "na": "no", "defo": "definitely", "deffo": "definitely", "definately": "definitely",
    "defiantly": "definitely", "prob": "probably", "probs": "probably", "prolly": "probably",
    "sumtimes": "sometimes", "somtimes": "sometimes", "smtimes": "sometimes", "sometime": "sometimes",
    "realy": "really", "rly": "really", "gud": "good", "gd": "good", "k": "ok", "kk": "ok", "okay": "ok",
    "okey": "ok", "oki": "ok", "alrite": "alright", "aight": "alright", "managin": "managing",
    "strugglin": "struggling", "strugling": "struggling", "tho": "though", "coz": "because", "cos": "because",
    "cuz": "because", "bc": "because", "wiv": "with", "nite": "night", "wk": "week", "wks": "weeks",
    "wanna": "want to", "gonna": "going to", "gotta": "got to", "hafta": "have to", "kinda": "kind of",
    "sorta": "sort of", "dunno": "don't know", "idk": "i don't know", "nothin": "nothing", "nuffin": "nothing",
    "nowt": "nothing", "noone": "no one", "no1": "no one", "some1": "someone", "sum1": "someone",
    "any1": "anyone", "bout": "about", "abt": "about", "tbh": "", "tbf": "", "lol": "", "x": "", "xx": "",
    "xxx": "", "mo": "moment", "jus": "just", "juss": "just", "wrk": "work", "wrking": "working",
    "wrkin": "working", "workin": "working", "lookin": "looking", "mite": "might", "thx": "thanks",
    "ty": "thanks", "plz": "please", "pls": "please", "stressfull": "stressful", "exausted": "exhausted",
    "knackerd": "knackered", "tierd": "tired", "wierd": "weird", "alot": "a lot", "abit": "a bit",
    "togther": "together", "wiht": "with", "wit": "with", "hrs": "hours", "hr": "hours", "hour": "hours",
}
_REPEATS = re.compile(r"(\w)\1{2,}")  # "yesss", "nooo", "soooo": one letter said three times is one
# "no probs" is no problem, although "probs" alone is "probably".
_NO_PROBLEM = re.compile(r"\bno prob(?:s|z|lem|lems)?\b")
# A tag question asks nothing of us: "I'll have to, won't I" says no more than "I'll have to".
_TAG = re.compile(r"\s(?:won't|wouldn't|isn't|aren't|don't|doesn't|can't|shouldn't|haven't|didn't|will|is|do|"
                  r"does|can|should) (?:i|it|he|she|they|we|you)$")


def canon(text: str) -> str:
    """normalise() plus text-speak and misspellings spelled one way ("dont" -> "don't", "yh" -> "yes")."""
    t = _REPEATS.sub(r"\1", normalise(text).replace("w/", "with "))
    t = _NO_PROBLEM.sub("no problem", t)
    words = [_SPELLING.get(w, w) for w in t.split()]
    return _TAG.sub("", _SPACES.sub(" ", " ".join(w for w in words if w)).strip())


def _has(text: str, phrases) -> bool:
    return any(re.search(r"(?<![\w'])" + re.escape(p) + r"(?![\w'])", text) for p in phrases)


def _spans(text: str, phrase: str):
    for m in re.finditer(r"(?<![\w'])" + re.escape(phrase) + r"(?![\w'])", text):
        yield m.start(), m.end()


@dataclass(frozen=True)
class Reading:
    """What a reply was read as: a value, and whether it is sure enough to store without asking."""

    value: Any
    sure: bool = True


UNSURE = ["not sure", "don't know", "no idea", "unsure", "maybe", "not certain", "hard to say", "who knows",
          "perhaps", "possibly", "can't say", "couldn't say", "it depends", "depends", "not decided",
          "don't know yet", "can't decide", "mixed feelings", "in two minds", "torn", "yes and no"]
PARTLY = ["kind of", "sort of", "sometimes", "a bit", "a little", "partly", "not always", "now and then",
          "some nights", "occasionally", "on and off", "some days", "every so often", "once in a while",
          "now and again", "not every", "half the time", "part of the week", "some of the time", "most days",
          "odd night", "the odd", "once a week", "twice a week", "few times", "at weekends", "weekends only",
          "but only", "only at", "only on", "not often", "hardly ever", "rarely", "from time to time",
          "depends on the night", "more or less", "when he's bad", "when she's bad", "if he's bad",
          "if she's bad", "half the week", "some of the week", "part of the time", "stay over", "stays over",
          "back and forth", "some weekends"]
# Answers that say yes with negative words ("can't complain"), read before the negations.
YES_IDIOMS = ["can't complain", "not bad", "not too bad", "no problem", "no problems", "no bother",
              "no worries", "no complaints", "not a problem", "never a problem", "wouldn't have it any other way",
              "can't say no", "no doubt", "not a doubt", "without a doubt", "i don't mind", "don't mind",
              "i think so", "i believe so", "i guess so", "i suppose so", "suppose so", "guess so",
              "no reason why not", "no reason not to", "can't see why not", "don't see why not"]
NO_WORDS = ["no", "not", "never", "none", "nobody", "no one", "nothing", "don't", "doesn't", "didn't",
            "haven't", "hasn't", "isn't", "aren't", "wasn't", "won't", "can't", "cannot", "couldn't", "ain't",
            "neither", "negative", "not really", "not yet", "not at all", "no way", "not a chance", "no chance",
            "i don't think so", "don't think so", "not that i know", "not as such", "not any more",
            "not anymore", "no longer", "waiting list", "used to go", "stopped going"]
YES_WORDS = ["yes", "y", "sure", "ok", "of course", "definitely", "absolutely", "correct", "i do", "i am",
             "i have", "we do", "they do", "course", "yes please", "always", "every night", "most nights",
             "true", "right", "that's right", "thats right", "certainly", "indeed", "obviously", "yes they do",
             "they know", "he does", "she does", "we are", "i will", "i would", "totally", "100%", "of course i do",
             "all the time", "every day", "constantly", "loads", "a lot", "lots", "often", "usually", "mostly",
             "for sure", "affirmative", "yes i am", "i do yes", "probably", "i did", "they have", "step in",
             "would take over", "would have him", "would have her", "written down"]
_LEADING = re.compile(r"^(yes|y|no|n|ok|sure|right|correct)\b")
# Unsure readings read as a lean, not a fact: asked back to the carer.
_LEAN_YES = ["probably", "i think so", "i believe so", "i guess so", "i suppose so", "suppose so", "guess so",
             "hopefully", "hope so", "should be", "should do", "i think"]
_LEAN_NO = ["probably not", "i don't think so", "don't think so", "not that i know", "doubt it", "i doubt",
            "not as such"]


def _polarity(t: str) -> Optional[str]:
    """'yes', 'no' or None for a plain reply: yes-idioms first, then a leading yes/no word, then any word."""
    if _has(t, YES_IDIOMS) and not _has(t, ["not that i know", "i don't think so", "don't think so"]):
        return "yes"
    lead = _LEADING.match(t)
    if lead:
        return "no" if lead.group(1) in ("no", "n") else "yes"
    if _has(t, NO_WORDS):
        return "no"  # "never had no help": negative concord is one no, as the carer means it
    if _has(t, YES_WORDS):
        return "yes"
    return None


# A numbered choice line, "2. No": what a carer who taps a WhatsApp button sends (the gateway stores the tap
# this way), or types after reading the numbered choices.
_PICKED = re.compile(r"\s*(\d{1,2})\.\s+\S[^\n]*")


def picked_number(text: str) -> Optional[int]:
    """The number of a numbered choice line ("2. No" -> 2), else None."""
    m = _PICKED.fullmatch(text or "")
    return int(m.group(1)) if m else None


_EVERY_TIME = ["every night", "every single night", "each night", "every day", "always", "all the time",
               "constantly", "night after night"]
# A reply that asks about the question ("what happens if I say no?") answers nothing yet.
_ASKING = re.compile(r"\bif (?:i|we) (?:say|said|put|pick|picked|choose|chose|answer|answered|tick)\b|"
                     r"^(?:what|why) (?:do you mean|does that mean|happens)\b")


def read_yes_no(text: str) -> Optional[Reading]:
    """Read 'yes', 'no' or 'sometimes'; a hedge ("probably") is a reading that is not sure."""
    t = canon(text)
    picked = picked_number(text)
    if t == "1" or picked == 1:
        return Reading("yes")  # yes/no choices are always offered as 1. yes, 2. no
    if t == "2" or picked == 2:
        return Reading("no")
    if not t:
        return None
    if re.search(r"\b(they|he|she|it|gp|doctors?|surgery|nobody|no one)\s+(don't|doesn't|didn't)\s+know\b", t):
        return Reading("no")  # someone else not knowing is a no, not the carer unsure
    if _has(t, _LEAN_NO):
        return Reading("no", sure=False)
    if _has(t, _EVERY_TIME) and not re.search(r"^(no|n|not|never)\b|\bnot (every|always|all|each|constantly)\b", t):
        return Reading("yes")  # "every night, sometimes 3 or 4 times": the sometimes is how often in a night
    if _has(t, PARTLY) or re.search(r"\bbut (not|only)\b", t):
        return Reading("sometimes")  # "depends on the night" is sometimes, not unsure
    if _has(t, UNSURE):
        return None
    if _has(t, _LEAN_YES) and not _LEADING.match(t):
        return Reading("yes", sure=False)
    value = _polarity(t)
    return Reading(value) if value else None


def parse_yes_no(text: str) -> Optional[str]:
    """Return 'yes', 'no', 'sometimes' or None when the reply is unclear."""
    reading = read_yes_no(text)
    return reading.value if reading else None


_UNITS = {"zero": 0, "nil": 0, "none": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4,
          "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
          "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
          "nineteen": 19, "couple": 2, "few": 3, "half": 0.5, "dozen": 12, "several": 4, "hundred": 100}
_VAGUE = {"couple", "few", "several"}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_ALWAYS = ["24/7", "24 7", "24 hours a day", "all day every day", "all the time", "round the clock",
           "every hour", "constantly", "twenty four seven", "24-7", "day and night", "all day and night",
           "every waking hour", "all hours", "night and day", "all day all night", "around the clock"]


def _words_to_number(t: str) -> Optional[tuple[float, bool]]:
    """Read the first number written in words ('about forty five hrs'); with whether it was vague ('a few')."""
    total, found, vague = 0.0, False, False
    for word in re.split(r"[\s-]+", t):
        if word in _TENS:
            total += _TENS[word]
            found = True
        elif word == "hundred":
            total = (total or 1.0) * 100
            found = True
        elif word in _UNITS and word not in {"a", "an"}:
            total += _UNITS[word]
            found = True
            vague = vague or word in _VAGUE
        elif found and word in ("and", "of", "or", "so"):
            continue
        elif found:
            break
    return (total, vague) if found else None


_NUM = r"(\d+(?:\.\d+)?)"


def read_number(text: str, minimum: float = 0, maximum: float = 168) -> Optional[Reading]:
    """Hours a week from '40', 'about forty hrs a wk', '6 a day', '2-3 hours a day', '24/7'."""
    t = canon(text)
    if _has(t, _ALWAYS) or "24/7" in (text or ""):
        return Reading(int(maximum) if float(maximum).is_integer() else float(maximum))
    sure = not _has(t, ["not sure", "don't know", "no idea", "guess", "depends", "it varies", "varies",
                        "hard to say", "roughly", "or so"]) or bool(re.search(r"\d", t))
    m = re.search(_NUM + r"\s*(?:-|to|or|/|and)\s*" + _NUM, t)
    if m and "/7" not in t and "/5" not in t:
        value = (float(m.group(1)) + float(m.group(2))) / 2
    else:
        m = re.search(_NUM, t)
        if m:
            value = float(m.group(0))
        else:
            words = _words_to_number(t)
            if words is None:
                return None
            value, vague = words
            sure = sure and not vague
    if re.search(r"\b\d+\s*days?\b", t) and not re.search(r"\bhours\b|\ba day\b|\bper day\b", t):
        return None  # "3 days a week": days, not hours
    if re.search(r"\b(a|per|each|every|/)\s*(day|night|dy)\b|\bdaily\b|\bnightly\b|\ba day\b|\bevery day\b", t):
        days = re.search(r"\b(\d)\s*(?:days|nights)\s*(?:a|per)\s*week\b", t)
        weekdays = re.search(r"\bweekdays?\b|\bmonday to friday\b|\bmon to fri\b", t)
        value *= int(days.group(1)) if days else 5 if weekdays else 7
    elif re.search(r"\b(a|per|each|every)\s*month\b", t):
        value = value * 12 / 52
        sure = False
    value = round(float(value), 1)
    if value.is_integer():
        value = int(value)
    if value < minimum or value > maximum:
        return None
    return Reading(value, sure)


def parse_number(text: str, minimum: float = 0, maximum: float = 168) -> Optional[float]:
    """Return hours a week from '40', 'about forty hrs a wk', '6 a day', '24/7'; None if unclear."""
    reading = read_number(text, minimum, maximum)
    return reading.value if reading else None


_SCALE_WORDS = [
    (1, ["not at all", "no effect", "none", "fine", "ok", "good", "great", "not really", "no", "doesn't",
         "it doesn't", "hardly at all", "nothing", "never", "not in the slightest", "i'm fine", "all good"]),
    (2, ["a little", "a bit", "slightly", "little bit", "not much", "mildly", "not too bad", "not bad",
         "hardly", "a tiny bit", "only a bit", "now and then"]),
    (3, ["somewhat", "some", "medium", "moderate", "sometimes", "so so", "average", "quite", "kind of",
         "in the middle", "middling", "some days", "on and off", "fair bit", "not great", "moderately",
         "fairly", "reasonably"]),
    (4, ["quite a lot", "a fair bit", "badly", "really", "very", "struggling", "hard", "a great deal",
         "quite badly", "a good deal", "worn out", "really tired", "really stressed"]),
    (5, ["a lot", "lots", "loads", "massively", "terrible", "awful", "extremely", "totally", "completely",
         "can't cope", "breaking", "exhausted", "constantly", "all the time", "big time", "hugely",
         "enormously", "so much", "a huge amount", "every day", "at breaking point", "falling apart",
         "really badly", "very badly", "really bad", "very bad", "destroyed", "broken"]),
]
_SCALE_LEAN = ["some", "quite", "really", "very", "hard", "not great", "fine", "ok", "good"]


def read_scale(text: str, minimum: int = 1, maximum: int = 5) -> Optional[Reading]:
    """A scale point from '4', 'four', '3 or 4', '8 out of 10', 'a lot', 'not at all'."""
    t = canon(text)
    points = {int(n) for n in re.findall(r"\b\d+\b", t) if minimum <= int(n) <= maximum}
    if len(points) > 1 and not re.search(r"\b\d+\s*(?:-|to|or|/|and)\s*\d+\b", t):
        return None  # "some days 1, some days 5": no one point to store
    m = re.search(r"\b(\d+)\s*(?:-|to|or|/|and)\s*(\d+)\b", t)
    if m and not re.search(r"\b\d+\s*(?:/|out of)\s*(?:5|10)\b", t):
        low, high = sorted((int(m.group(1)), int(m.group(2))))
        if minimum <= low <= high <= maximum and high - low == 1:
            return Reading(high, sure=False)  # "3 or 4": asked back as the higher, which the carer can correct
    m = re.search(r"\b(\d+)\s*(?:/|out of)\s*10\b", t)
    if m and 0 <= int(m.group(1)) <= 10:
        return Reading(max(minimum, min(maximum, round(int(m.group(1)) / 2 + 0.01))), sure=False)
    m = re.search(r"\b(\d+)\b", t)
    if m:
        value = int(m.group(1))
        return Reading(value) if minimum <= value <= maximum else None
    w = _words_to_number(t)
    if w is not None and float(w[0]).is_integer() and minimum <= w[0] <= maximum and not w[1]:
        return Reading(int(w[0]))
    # Longest phrase first, so "quite a lot" wins over "a lot" and "not at all" over "not".
    best = None
    for value, phrases in _SCALE_WORDS:
        for p in phrases:
            if _has(t, [p]) and (best is None or len(p) > len(best[1])):
                best = (value, p)
    if best is None:
        return None
    return Reading(best[0], sure=best[1] not in _SCALE_LEAN)


def parse_scale(text: str, minimum: int = 1, maximum: int = 5) -> Optional[int]:
    """Return a scale point from '4', 'four', 'a lot', 'not at all'; None if unclear."""
    reading = read_scale(text, minimum, maximum)
    return reading.value if reading else None


# Words that pick a choice, by the choice key's last part. A phrase ending in "?" leans that way without
# being sure of it ("it's hard" to a question about the home: pain or stress, or only with help?).
CHOICE_WORDS = {
    "yes": ["i want to", "i do", "of course", "definitely", "absolutely", "happy to", "i will", "always will",
            "for as long as i can", "as long as i can", "i love", "wouldn't have it any other way", "i'd never stop",
            "want to keep", "want to carry on", "yes i do", "i think so", "i'll manage", "should be", "hope so?",
            "hopefully?", "probably?", "i'll be fine", "i'll cope", "course"],
    "no": ["not really", "not any more", "not anymore", "no longer", "i want to stop", "i'd like to stop",
           "want out", "i'm done", "can't do it any more", "can't do this any more", "can't carry on",
           "can't keep going", "don't want to", "i can't", "won't be able", "not for much longer", "doubt it",
           "i don't think so", "don't think so", "no way", "not a chance", "can't see it", "not for long",
           "no chance", "can't see how", "won't manage", "probably not?", "i doubt it", "hope not?"],
    "yes_with_help": ["with help", "more help", "if i get help", "with support", "if i had help", "with more",
                      "if i get a break", "with a break", "with breaks", "more support", "need help", "need more",
                      "if i had support", "with some help", "given help", "if i get support", "if things change",
                      "if i got help", "if i had a break", "if i get more", "need a break", "needs to change",
                      "if i could get", "if i can get", "if i could have", "if i had more", "only if",
                      "not without", "as long as i get", "as long as i have", "provided i get"],
    "no_choice": ["no choice", "have to", "got to", "no one else", "nobody else", "who else", "someone has to",
                  "somebody has to", "what else can i do", "no option", "no alternative", "not like i can stop",
                  "it's my duty", "my duty", "stuck with it", "i must", "don't have a choice", "any choice",
                  "what choice", "not a choice", "no other option", "there's no one", "there is no one",
                  "have a choice", "not like i have", "if i had a choice", "if i had the choice"],
    "not_sure": UNSURE + ["don't know", "day by day", "one day at a time", "each day as it comes",
                          "don't know how long", "not sure how long", "some days?", "sometimes?", "50 50", "50/50",
                          "fifty fifty"],
    "any_time": ["any time", "anytime", "whenever", "doesn't matter", "don't mind", "any", "whatever suits",
                 "all times", "no preference", "either"],
    "daytime": ["day", "daytime", "morning", "mornings", "afternoon", "afternoons", "daytimes", "lunch",
                "lunchtime", "during the day", "in the day", "school hours", "before 3", "before 5"],
    "evenings": ["evening", "evenings", "night", "nights", "after 7", "after 6", "after 8", "after 9",
                 "after work", "late", "eves", "tonight", "after tea", "after dinner", "when he's in bed",
                 "when she's in bed", "after he's in bed", "after she's in bed"],
    "weekends": ["weekend", "weekends", "saturday", "sunday", "saturdays", "sundays", "sat", "sun"],
    # The reg 3 outcomes: able; only with help; with pain, stress or worry; only at a risk; unable.
    "fine": ["fine", "ok", "no problem", "alright", "all right", "good", "managing", "no problems", "not bad",
             "easy", "coping", "not too bad", "can't complain", "no complaints", "no bother", "no issues",
             "all good", "doing well", "well", "grand", "i manage", "we manage", "great", "managing fine",
             "managing ok", "doesn't affect", "not affected", "no effect", "no difference", "ok-ish?",
             "get by?", "getting by?", "just about?", "most of the time?", "mostly?"],
    "with_help": ["with help", "help from", "helps me", "helps", "helps out", "only with help", "with support",
                  "if someone", "cleaner", "a carer comes", "carers come", "need help", "needs help", "when someone",
                  "not without help", "without help?", "does it for me", "does it for us", "does that",
                  "does the", "do it for me", "family help",
                  "home help", "with a hand", "get help", "gets help", "i get help", "meals on wheels",
                  "delivered", "deliveries", "online shop", "online shopping", "someone sits", "sits with",
                  "does it", "does most", "does all", "without her", "without him", "without them",
                  "has them", "has the kids", "looks after them", "picks them up", "minds them",
                  "comes in", "pops in", "a lift", "lifts", "takes me", "drives me", "respite", "takes over",
                  "take over", "sitter", "sitting service", "day centre", "covers for me", "cover for me", "covers",
                  "comes round", "comes over", "comes to help"],
    "distress": ["stress", "stressful", "stressed", "pain", "painful", "hurts", "my back", "anxious", "anxiety",
                 "worry", "worried", "worrying", "exhausting", "exhausted", "wears me out", "worn out", "tiring",
                 "tired", "knackered", "shattered", "upset", "upsetting", "distress", "distressing", "draining",
                 "drains me", "a strain", "guilt", "guilty", "frazzled", "overwhelmed", "overwhelming",
                 "on edge", "panic", "panicking", "panicky", "rush back", "gets me down", "get me down", "nervous", "cry", "crying", "in tears", "at the end of my tether",
                 "hard?", "difficult?", "tough?", "struggle?", "struggling?", "not easy?", "so so?",
                 "could be better?", "a bit?", "trying?", "juggling?", "nightmare?", "hard work?", "a battle?",
                 "sometimes?", "some days?", "not great?", "not always?", "not very well?", "badly?",
                 "affects it?", "it affects?", "affecting?"],
    "at_risk": ["risk", "risky", "at risk", "dangerous", "danger", "unsafe", "not safe", "fall", "falls", "fell",
                "trip", "tripped", "hurt myself", "injured", "accident", "leave him alone", "leave her alone",
                "left alone", "leave him on his own", "leave her on her own", "wanders", "wander off", "final warning",
                "disciplinary", "lose my job", "losing my job", "sacked",
                "wandered", "burn", "burnt", "fire", "gas on", "flood", "gets out", "while i'm out"],
    "cannot": ["can't", "cannot", "can not", "unable", "impossible", "no time",
               "not managing", "can't cope", "no chance", "no way", "not any more",
               "not anymore", "no longer", "gave up", "given up", "let it go", "gone to pot", "a mess",
               "falling apart", "can't keep up", "don't get any", "zero", "no life",
               "don't eat", "skip meals", "skipping meals", "forget to eat", "never eat",
               "not really?", "hardly?", "rarely?", "not much?", "not often?", "barely?", "hardly ever?",
               "living on toast?", "whatever is quick?", "toast?", "ready meals?", "takeaways?", "snacks?",
               "snacking?", "grab what i can?", "on the go?", "cut my hours?", "cut down my hours?",
               "reduced my hours?", "fewer hours?", "go part time?", "leave early?", "leaving early?",
               "time off?", "miss work?", "missed days?", "no social life", "lost touch",
               "lost contact", "don't see", "haven't seen", "can't get out", "can't leave", "stuck in",
               "lost my friends", "lost most of my friends", "lost all my friends", "what time for myself",
               "what free time", "what spare time", "what me time",
               "housebound", "trapped"],
    "not_apply": ["n/a", "not applicable", "does not apply", "doesn't apply", "no children", "no kids",
                  "no one else", "nobody else", "don't have", "don't have any", "haven't got any", "no others",
                  "grown up", "all grown up", "adults", "left home", "just him", "just her", "only him",
                  "only her", "just the one", "only the one", "not a parent", "no grandchildren", "childless",
                  "none", "no"],
    "work_now": ["i work", "work", "working", "job", "study", "studying", "student", "college", "uni",
                 "university", "course", "volunteer", "volunteering", "part time", "full time", "part-time",
                 "full-time", "self employed", "self-employed", "shifts", "apprentice", "apprenticeship",
                 "training", "i do", "employed", "nurse", "teacher", "shop", "office", "from home",
                 "hours a week", "days a week", "yes i do", "i volunteer", "i study"],
    "want_to": ["want to", "would like", "like to", "wish i could", "hope to", "i'd like", "love to",
                "i'd love", "looking for work", "looking for a job", "go back", "get back", "back to work",
                "return to", "one day", "in future", "in the future", "if i could", "wish", "want", "plan to",
                "thinking about"],
    "gave_up": ["gave up", "give up", "given up", "had to leave", "had to quit", "had to stop", "left my job",
                "left work", "quit my job", "quit work", "stopped working", "stop working", "packed in",
                "pack in", "packed it in", "lost my job", "couldn't carry on working", "can't work because",
                "had to finish", "finished work", "finished my job", "retired early", "took early retirement",
                "early retirement", "handed in my notice", "resigned", "used to work?", "used to?",
                "no longer work", "don't work any more", "don't work anymore", "not since"],
    "no_work": ["no", "retired", "not working", "don't work", "unemployed", "not at the moment", "not at present",
                "not currently", "not right now", "on benefits", "carer's allowance", "full time carer",
                "full-time carer", "caring is my job", "caring is my full time job", "no job", "not got a job",
                "haven't got a job", "out of work", "between jobs", "on the sick", "too ill to work",
                "can't work", "stay at home", "stay-at-home", "housewife", "at home", "pensioner", "too old",
                "nothing"],
}
# A value that says more than another is sure even when both are heard ("yes, with more help").
_REFINES = {
    "yes_with_help": {"yes", "not_sure"}, "no_choice": {"yes", "no", "not_sure"}, "not_sure": {"yes", "no"},
    "with_help": {"fine", "cannot", "distress"}, "at_risk": {"cannot", "distress", "fine"},
    "cannot": {"distress"}, "not_apply": {"cannot", "fine"},
    "want_to": {"no_work", "gave_up", "work_now"}, "gave_up": {"work_now", "no_work"},
    "no_work": {"work_now"}, "evenings": {"any_time"}, "daytime": {"any_time"}, "weekends": {"any_time"},
}
# Which value wins when the words point several ways (then the reading is asked back to the carer).
_PRIORITY = ["at_risk", "with_help", "cannot", "distress", "not_apply", "fine",
             "no_choice", "yes_with_help", "not_sure", "no", "yes",
             "want_to", "gave_up", "no_work", "work_now",
             "evenings", "daytime", "weekends", "any_time"]

_ORDINALS = {"one": 1, "first": 1, "two": 2, "second": 2, "three": 3, "third": 3, "four": 4, "fourth": 4,
             "five": 5, "fifth": 5, "six": 6, "sixth": 6, "the first one": 1, "the second one": 2,
             "the third one": 3, "the fourth one": 4, "the fifth one": 5, "the last one": -1, "last": -1,
             "the first": 1, "the second": 2, "the third": 3, "the fourth": 4, "the fifth": 5}
_NUMBER_PICK = re.compile(r"(?:option |number |no |choice |#|its |it's |i'd say |i pick |i choose |prob |probably )?"
                          r"(\d{1,2}|one|two|three|four|five|six)(?: please| pls| i think| i guess| probably)?")
_CHOICE_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


# A word that turns the phrase after it round: "not evenings", "no one helps", "not very good".
_NEGATED = re.compile(r"(?<![\w'])(not|no|never|nobody|isn't|aren't|wasn't|don't|doesn't|didn't|except|hardly)"
                      r"\s+(?:\w+\s+)?$")


def _heard(t: str, values: list[str]) -> dict[str, bool]:
    """The values whose words are in the reply, each with whether a sure phrase said it."""
    found = []
    for v in values:
        for p in CHOICE_WORDS.get(v, []):
            phrase, sure = (p[:-1], False) if p.endswith("?") else (p, True)
            own_negation = phrase.startswith(("not ", "no "))  # "no way, not without carers": not turned round
            for start, end in _spans(t, phrase):
                if own_negation or not _NEGATED.search(t[:start]):
                    found.append((start, end, v, sure))
    # A phrase inside a longer one does not count on its own: "no choice" is not "no".
    kept = [f for f in found if not any(o[0] <= f[0] and f[1] <= o[1] and (o[1] - o[0]) > (f[1] - f[0])
                                        for o in found)]
    heard: dict[str, bool] = {}
    for _, _, v, sure in kept:
        heard[v] = heard.get(v, False) or sure
    return heard


# A time of day read as the part of the day it falls in ("after 7pm" is the evening).
_CLOCK_EVENING = re.compile(r"\b(?:[5-9]|1[01])(?:[.:]\d\d)? ?pm\b")
_CLOCK_DAY = re.compile(r"\b(?:(?:[1-4]|12)(?:[.:]\d\d)? ?pm|(?:[6-9]|1[01])(?:[.:]\d\d)? ?am)\b")


def read_choice(text: str, choices: list[str], polar: Optional[dict] = None) -> Optional[Reading]:
    """Read a choice from its number ('2', 'option 2', a tapped '2. It is hard'), its title or the words.

    `polar` says what a bare yes or no means for this question ({'yes': 'fine', 'no': 'cannot?'}); a value
    ending in '?' is a lean to ask back, and a missing one means a yes or no alone says too little.
    """
    t = canon(text)
    values = [c.split(".", 1)[1] for c in choices]
    if "evenings" in values:
        t = _CLOCK_EVENING.sub(" evening ", _CLOCK_DAY.sub(" daytime ", t))
    m = _NUMBER_PICK.fullmatch(t)
    n = picked_number(text)
    if n is None and m:
        n = int(m.group(1)) if m.group(1).isdigit() else _CHOICE_NUMBERS[m.group(1)]
    if n is None and t in _ORDINALS:
        n = _ORDINALS[t] if _ORDINALS[t] > 0 else len(values)
    if n is not None:
        return Reading(values[n - 1]) if 1 <= n <= len(values) else None
    lead = re.match(r"^(\d)\b(?!\s*(?:hours|days|times|a |/|out))", t)
    heard = _heard(t, values)
    if lead and 1 <= int(lead.group(1)) <= len(values):
        # "3 its painful": the number is the pick; words that point elsewhere are asked about.
        value = values[int(lead.group(1)) - 1]
        return Reading(value, sure=all(v == value for v in heard) or not heard)
    polarity = None if _has(t, UNSURE) else _polarity(t)  # "dunno" is not a no
    if heard:
        # Words that say it outright outweigh words that only lean ("leaving early, it's so stressful").
        said = [v for v in heard if heard[v]] or list(heard)
        ranked = sorted(said, key=lambda v: _PRIORITY.index(v) if v in _PRIORITY else len(_PRIORITY))
        best, others = ranked[0], set(ranked[1:])
        sure = heard[best] and others <= _REFINES.get(best, set())
        return Reading(best, sure)
    if polarity and polar and polar.get(polarity):
        value = polar[polarity]
        return Reading(value.rstrip("?"), sure=not value.endswith("?"))
    if polarity and not polar and polarity in values:
        return Reading(polarity)
    return None


def parse_choice(text: str, choices: list[str], polar: Optional[dict] = None) -> Optional[str]:
    """Return the chosen value (the choice key's last part) from '2', 'option 2' or the words."""
    reading = read_choice(text, choices, polar)
    return reading.value if reading else None


def read_answer(question: dict, text: str) -> Optional[Reading]:
    """Read a reply to a question; None when nothing in it answers the question."""
    kind = question["type"]
    if kind == "free_text":
        words = (text or "").strip()
        return Reading(words) if words else None
    if _ASKING.search(canon(text)):
        return None
    if kind == "yes_no":
        return read_yes_no(text)
    if kind == "number":
        return read_number(text, question.get("min", 0), question.get("max", 168))
    if kind == "scale":
        return read_scale(text, question.get("min", 1), question.get("max", 5))
    if kind == "choice":
        return read_choice(text, question["choices"], question.get("polar"))
    raise ValueError(f"unknown question type {kind}")


def parse_answer(question: dict, text: str) -> tuple[bool, Any]:
    """Return (usable, value) for a reply to a question; a reading that is not sure is not usable."""
    reading = read_answer(question, text)
    if reading is None or not reading.sure:
        return False, None
    return True, reading.value
