"""Turn the way carers text into answer values: yes/no, numbers, scales and choices."""

from __future__ import annotations

import re
from typing import Any, Optional

_PUNCT = re.compile(r"[^\w\s/'-]+")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-case, strip punctuation and emoji, collapse spaces."""
    text = (text or "").lower().replace("\u2019", "'")
    text = text.replace("\U0001F44D", " yes ").replace("\U0001F44E", " no ")
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def _has(text: str, phrases) -> bool:
    return any(re.search(r"(?<![\w'])" + re.escape(p) + r"(?![\w'])", text) for p in phrases)


UNSURE = ["not sure", "dont know", "don't know", "dunno", "no idea", "idk", "unsure", "maybe", "not certain"]
PARTLY = ["kind of", "kinda", "sort of", "sorta", "sometimes", "a bit", "a little", "partly", "not always",
          "now and then", "some nights", "occasionally", "on and off", "some days", "depends"]
NO = ["no", "n", "nah", "nope", "naw", "not really", "never", "no way", "i don't", "i dont", "not at all",
      "none", "nobody", "no one", "noone", "not yet", "no plan", "haven't", "havent", "not", "nothing",
      "negative", "na"]
YES = ["yes", "y", "yep", "yeah", "yea", "ya", "yh", "ye", "yup", "aye", "sure", "ok", "okay", "of course",
       "definitely", "absolutely", "correct", "i do", "i am", "i have", "we do", "they do", "course",
       "yes please", "yess", "yesss", "yas", "always", "every night", "most nights", "true", "deffo", "defo"]


# A numbered choice line, "2. No": what a carer who taps a WhatsApp button sends (the gateway stores the tap
# this way), or types after reading the numbered choices.
_PICKED = re.compile(r"\s*(\d{1,2})\.\s+\S[^\n]*")


def picked_number(text: str) -> Optional[int]:
    """The number of a numbered choice line ("2. No" -> 2), else None."""
    m = _PICKED.fullmatch(text or "")
    return int(m.group(1)) if m else None


def parse_yes_no(text: str) -> Optional[str]:
    """Return 'yes', 'no', 'sometimes' or None when the reply is unclear."""
    t = normalise(text)
    if not t:
        return None
    picked = picked_number(text)
    if t in {"1"} or picked == 1:
        return "yes"  # yes/no choices are always offered as 1. yes, 2. no
    if t in {"2"} or picked == 2:
        return "no"
    if _has(t, UNSURE):
        return None
    if _has(t, PARTLY):
        return "sometimes"
    if _has(t, NO):
        return "no"
    if _has(t, YES):
        return "yes"
    return None


_UNITS = {"zero": 0, "nil": 0, "none": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4,
          "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
          "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
          "nineteen": 19, "couple": 2, "few": 3, "half": 0.5, "dozen": 12}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_ALWAYS = ["24/7", "24 7", "24 hours a day", "all day every day", "all the time", "round the clock",
           "every hour", "constantly", "twenty four seven", "24-7", "day and night", "all day and night"]


def _words_to_number(t: str) -> Optional[float]:
    """Read the first number written in words, e.g. 'about forty five hrs'."""
    total, found = 0.0, False
    for word in re.split(r"[\s-]+", t):
        if word in _TENS:
            total += _TENS[word]
            found = True
        elif word in _UNITS and word not in {"a", "an"}:
            total += _UNITS[word]
            found = True
        elif word == "hundred" and found:
            total *= 100
        elif found:
            break
    return total if found else None


def parse_number(text: str, minimum: float = 0, maximum: float = 168) -> Optional[float]:
    """Return hours a week from '40', 'about forty hrs a wk', '6 a day', '24/7'; None if unclear."""
    t = normalise(text)
    if _has(t, _ALWAYS) or "24/7" in (text or ""):
        return int(maximum) if float(maximum).is_integer() else float(maximum)
    m = re.search(r"(\d+(?:\.\d+)?)\s*(?:-|to|or|/)\s*(\d+(?:\.\d+)?)", t)
    if m and "/7" not in t:
        value = (float(m.group(1)) + float(m.group(2))) / 2
    else:
        m = re.search(r"\d+(?:\.\d+)?", t)
        value = float(m.group(0)) if m else _words_to_number(t)
    if value is None:
        return None
    if re.search(r"\b(a|per|each|every|/)\s*(day|night|dy)\b|\bdaily\b|\ba day\b|\bevery day\b", t):
        value *= 7
    value = round(value, 1)
    if value.is_integer():
        value = int(value)
    if value < minimum or value > maximum:
        return None
    return value


_SCALE_WORDS = [
    (1, ["not at all", "no effect", "none", "fine", "ok", "okay", "good", "great", "not really", "no", "nah"]),
    (2, ["a little", "a bit", "slightly", "little bit", "not much", "mildly"]),
    (3, ["somewhat", "some", "medium", "moderate", "sometimes", "so so", "average", "quite", "kind of"]),
    (4, ["quite a lot", "a fair bit", "badly", "really", "very", "struggling", "hard"]),
    (5, ["a lot", "lots", "loads", "massively", "terrible", "awful", "extremely", "totally", "completely",
         "can't cope", "cant cope", "breaking", "exhausted", "constantly", "all the time"]),
]


def parse_scale(text: str, minimum: int = 1, maximum: int = 5) -> Optional[int]:
    """Return a scale point from '4', 'four', 'a lot', 'not at all'; None if unclear."""
    t = normalise(text)
    m = re.search(r"\b(\d+)\b", t)
    if m:
        value = int(m.group(1))
        if value == 10 and "out of" not in t:
            return None
        return value if minimum <= value <= maximum else None
    w = _words_to_number(t)
    if w is not None and float(w).is_integer() and minimum <= w <= maximum:
        return int(w)
    # Longest phrase first, so "quite a lot" wins over "a lot" and "not at all" over "not".
    best = None
    for value, phrases in _SCALE_WORDS:
        for p in phrases:
            if _has(t, [p]) and (best is None or len(p) > best[1]):
                best = (value, len(p))
    return best[0] if best else None


# Words that pick a choice, by the choice key's last part.
CHOICE_WORDS = {
    "yes": YES,
    "no": NO,
    "yes_with_help": ["with help", "more help", "if i get help", "with support", "if i had help", "with more"],
    "not_sure": UNSURE + ["don't know", "hard to say", "unsure"],
    "any_time": ["any time", "anytime", "whenever", "doesn't matter", "dont mind", "don't mind", "any"],
    "daytime": ["day", "daytime", "morning", "mornings", "afternoon", "afternoons", "daytimes", "lunch"],
    "evenings": ["evening", "evenings", "night", "nights", "after 7", "after 6", "after 8", "after work",
                 "late", "eves", "tonight"],
    "weekends": ["weekend", "weekends", "saturday", "sunday", "sat", "sun"],
    "fine": ["fine", "ok", "okay", "no problem", "alright", "all right", "good", "managing", "yes", "yep",
             "yeah", "no problems", "not bad", "easy", "coping"],
    "hard": ["hard", "difficult", "struggle", "struggling", "tough", "not easy", "sometimes", "a bit",
             "hardly", "not really", "not much", "rarely", "barely", "tricky", "so so", "mostly"],
    "cannot": ["can't", "cant", "cannot", "can not", "impossible", "not at all", "no time", "never",
               "unable", "no way", "not managing", "no chance", "none"],
    "not_apply": ["n/a", "na", "not applicable", "does not apply", "doesn't apply", "no children", "no kids",
                  "no one else", "nobody else", "no", "none", "nope", "nah", "don't have", "dont have"],
    "work_now": ["yes", "i work", "work", "working", "job", "study", "college", "uni", "volunteer",
                 "part time", "full time", "i do", "yep", "yeah"],
    "want_to": ["want to", "would like", "like to", "wish", "hope to", "i'd like", "id like", "want"],
    "no_work": ["no", "nope", "nah", "retired", "not working", "don't work", "dont work", "unemployed"],
}

_ORDINALS = {"one": 1, "first": 1, "two": 2, "second": 2, "three": 3, "third": 3, "four": 4, "fourth": 4}


def parse_choice(text: str, choices: list[str]) -> Optional[str]:
    """Return the chosen value (the choice key's last part) from '2', 'option 2' or the words."""
    t = normalise(text)
    values = [c.split(".", 1)[1] for c in choices]
    m = re.fullmatch(r"(?:option |number |no |choice |#)?(\d)(?: please| pls| plz)?", t)
    n = int(m.group(1)) if m else picked_number(text)
    if n is not None:
        return values[n - 1] if 1 <= n <= len(values) else None
    if t in _ORDINALS and _ORDINALS[t] <= len(values):
        return values[_ORDINALS[t] - 1]
    # The longest matching phrase wins: "not at all" beats "no", "would like" beats "like".
    best = None
    for v in values:
        for p in CHOICE_WORDS.get(v, []):
            if _has(t, [p]) and (best is None or len(p) > best[1]):
                best = (v, len(p))
    return best[0] if best else None


def parse_answer(question: dict, text: str) -> tuple[bool, Any]:
    """Return (usable, value) for a reply to a question."""
    kind = question["type"]
    if kind == "free_text":
        t = normalise(text)
        return (bool(t) or bool((text or "").strip()), (text or "").strip())
    if kind == "yes_no":
        v = parse_yes_no(text)
    elif kind == "number":
        v = parse_number(text, question.get("min", 0), question.get("max", 168))
    elif kind == "scale":
        v = parse_scale(text, question.get("min", 1), question.get("max", 5))
    elif kind == "choice":
        v = parse_choice(text, question["choices"])
    else:
        raise ValueError(f"unknown question type {kind}")
    return (v is not None, v)
