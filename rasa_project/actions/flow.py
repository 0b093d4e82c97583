"""The assessment as a state machine over slots: one carer turn in, custom payloads and slot changes out.

Pure Python (no rasa_sdk) so tests can drive it directly. All state is in slots, so a new Rasa
session (slots carried over) continues exactly where the carer was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from . import local_support
from . import questions as Q
from . import saying
from .parsing import Reading, normalise, parse_answer, parse_choice, parse_yes_no, picked_number, read_answer

# Slot names and their values when nothing has happened yet.
DEFAULTS: dict[str, Any] = {
    "assessment_status": "not_started",
    "current_question": None,
    "answers": {},
    "retries": 0,
    "carer_name": None,
    "opted_out": False,
    "pending_erase": False,
    "changing": None,
    "return_to": None,
    "support_offered": [],
    # What the carer has said to the current question so far, and a reading waiting for their yes:
    # {"question": id, "words": [...], "reading": value}. Every word is stored with the answer.
    "heard": None,
}

SURE_OF_RISK = 0.9
IN_ASSESSMENT = {"in_progress", "resume_pending", "paused"}
# After a bereavement the questions never come back; these still answer as they would anywhere.
AFTER_AN_END = {"opt_out", "opt_in", "erase", "human", "wrong_number", "what_is_this", "who_sees", "how_long",
                "help", "summary", "silent", "handback", "safeguarding"}
WAITING_ON = {"carry_on_ask", "carry_on_or_review"}
# After a question: one more try or one check of an unsure reading, then at most one more, then unclear.
MAX_ASKS = 2
# The yes or no that starts a reply to "So ..., is that right?"; the rest may answer the question afresh.
CONFIRM_LEAD = re.compile(r"^\W*(yes|yeah|yep|yh|ye|ya|yup|aye|no|nope|nah|na|correct|right|that's right|thats right|"
                          r"exactly|spot on|not really|not quite|wrong)\b[\s,.!-]*", re.I)
RECAP_AFTER_HOURS = 3.0
REVIEW_AFTER_HOURS = 48.0
# GSM-7 and Twilio's keywords, from the file the gateway reads too (the catalogue's, beside the words).
SMS = yaml.safe_load((Path(__file__).resolve().parents[2] / "bot/catalogue/sms.yml").read_text(encoding="utf-8"))
OPT_OUT_WORDS = frozenset(SMS["opt_out"])  # written as one word: "opt out" is "optout"
OPT_IN_WORDS = frozenset(SMS["opt_in"])
KEYWORDS = {"help": "help", "info": "help", "skip": "skip", "back": "back", "go back": "back",
            "repeat": "repeat", "summary": "summary", "pause": "pause", "person": "human",
            "carry on": "resume", "continue": "resume", "resume": "resume"}
ANSWER_INTENTS = {"greet", "affirm", "deny", "inform", "thanks", "resume", "nlu_fallback"}
GSM7 = frozenset(SMS["gsm7_basic"]) - {"\n", "\r"}


def keyword(text: Optional[str]) -> str:
    """A whole message as Twilio matches a keyword: letters and digits only, any case ("Opt out." is optout)."""
    return "".join(ch for ch in (text or "").lower() if ch.isalnum())


# The reply the first message offers when texts to this phone are not safe (catalogue: safe_to_text).
NO_TEXTS = r"^(please )?no texts?\b|\bnot safe to text\b"


@dataclass
class Turn:
    """One carer message as Rasa understood it."""

    intent: str = "inform"
    confidence: float = 1.0
    text: str = ""
    metadata: dict = field(default_factory=dict)

    @property
    def words(self) -> int:
        return len(normalise(self.text).split())

    @property
    def hours_away(self) -> float:
        try:
            return float((self.metadata or {}).get("resumed_after_hours") or 0)
        except (TypeError, ValueError):
            return 0.0


@dataclass
class Result:
    """What the bot does: payloads to send (in order) and slots to set."""

    messages: list = field(default_factory=list)
    slots: dict = field(default_factory=dict)

    def say(self, key: str, vars: Optional[dict] = None, choices: Optional[list] = None) -> None:
        if any(m.get("say") == key for m in self.messages):
            return  # one turn never sends the same message twice (the doubled privacy notice)
        custom: dict = {"say": key}
        if vars:
            custom["vars"] = vars
        if choices:
            custom["choices"] = list(choices)
        self.messages.append(custom)

    def event(self, name: str, **fields) -> None:
        self.messages.append({"event": name, **fields})


def gsm_safe(text: str, limit: int) -> str:
    """Keep carer words inside GSM-7 and a length limit, so a formatted message stays short."""
    text = (text or "").replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    text = text.replace("\u201d", '"').replace("\u2013", "-").replace("\u2014", "-")
    text = "".join(c for c in text if c in GSM7 or c == "\n").replace("\n", " ")
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


class Conversation:
    """One turn of the conversation, given the slots as they were."""

    def __init__(self, slots: dict, turn: Turn):
        self.s = {k: (slots.get(k) if slots.get(k) is not None else v) for k, v in DEFAULTS.items()}
        self.s["answers"] = dict(self.s["answers"] or {})
        self.turn = turn
        self.r = Result()

    # --- slot helpers ---------------------------------------------------------------------------
    def set(self, **changes) -> None:
        for k, v in changes.items():
            self.s[k] = v
            self.r.slots[k] = v

    @property
    def status(self) -> str:
        return self.s["assessment_status"] or "not_started"

    @property
    def current(self) -> Optional[str]:
        return self.s["current_question"]

    # --- entry ----------------------------------------------------------------------------------
    def handle(self, command: str) -> Result:
        """Run one turn; command is what the routing rule chose (the intent's action)."""
        command = self.refine(command)
        if self.s["opted_out"] and command != "opt_in":
            return self.r  # opted out: stay silent
        if self.status == "ended" and not self.s["pending_erase"] and command not in AFTER_AN_END:
            command = "ended"
        getattr(self, "do_" + command)()
        if command != "reminder":
            self.note_waiting()
        return self.r

    def note_waiting(self) -> None:
        """Tell the gateway whenever a question waits for the carer, so going quiet there starts the reminders."""
        if self.status not in ("in_progress", "resume_pending") or not self.current or self.s["opted_out"]:
            return
        if any(m.get("event") == "progress" for m in self.r.messages):
            return
        if not any(m.get("say", "").startswith("q.") or m.get("say") in WAITING_ON for m in self.r.messages):
            return
        done, total = self.progress_counts()
        self.r.event("progress", section=Q.question(self.current)["section"], done=done, total=total)

    def refine(self, command: str) -> str:
        """Let exact keywords win, and keep a long answer from being taken as a command."""
        t = normalise(self.turn.text)
        if keyword(self.turn.text) in OPT_OUT_WORDS:
            return "opt_out"
        if command in ("reminder", "handback"):
            return "silent" if self.s["opted_out"] else command
        if keyword(self.turn.text) in OPT_IN_WORDS:
            # The gateway handles STOP itself on SMS, so START can come while Rasa never saw the STOP.
            return "opt_in" if self.s["opted_out"] or self.in_assessment() else "answer"
        if self.s["opted_out"]:
            return "opt_in" if command == "opt_in" and self.turn.words <= 4 else "silent"
        if self.status == "awaiting_consent" and re.search(NO_TEXTS, t):
            return "answer"  # the first message's way out, not an opt-out: a person finds another way
        if command == "safeguarding":
            # The second net, whatever the question, when the model is sure: below that it hears risk in
            # about one everyday answer in ten, and the gateway's screen has already read the message.
            return command if self.turn.confidence >= SURE_OF_RISK else "answer"
        if picked_number(self.turn.text) is not None and self.awaits_choice():
            return "answer"  # a tapped button ("2. Not now") picks a choice, whatever its words sound like
        if self.confirming() and CONFIRM_LEAD.match(self.turn.text or ""):
            return "answer"  # "no, that's wrong" to "So ..., is that right?" answers it; it is not going back
        if t in KEYWORDS:
            k = KEYWORDS[t]
            return "answer" if k == "resume" else k
        if command == "opt_in":
            command = "answer"
        clear = saying.clear_command(t)
        if clear and not (clear == "pause" and self.current == "contact_times"):
            return clear  # "when" is the answer there
        if self.status == "in_progress" and self.current and Q.question(self.current)["type"] == "free_text" \
                and re.fullmatch(r"(sorry )?not (right )?now( sorry| thanks| pls| please| x)?", t):
            return "pause"  # at a yes/no question the same words may be the answer
        if command in saying.LIFE_EVENTS and (self.turn.confidence < 0.6 or saying.told_before(command, t)):
            return "answer"  # a life event ends or pauses the questions: only when plainly told, and told as news
        # Commands with big effects need their own words, so "everything" is not "delete everything".
        if command in ("opt_out", "erase", "help") and not saying.says(command, t):
            command = "answer"
        if self.status == "in_progress" and self.current and command not in ("answer", "reminder"):
            q = Q.question(self.current)
            if command == "contact_window" and self.current == "contact_times":
                return "answer"
            if q["type"] == "free_text":
                # "never any time for me" answers a question; a command at a free-text question needs words
                # that say so ("someone to talk to" answers "what would help?"; asking for a person is a request).
                if self.turn.words > 10 and self.turn.confidence < 0.6:
                    return "answer"
                if command == "human" and re.search(saying.NOW_AND_THEN, t):
                    return "answer"  # "someone to ring me once a week" is help they would like
                sure_aside = command in saying.ASIDES and self.turn.confidence >= 0.9 and self.turn.words <= 10
                if not (sure_aside or saying.says(command, t)):
                    return "answer"
        return command

    def awaits_choice(self) -> bool:
        """Whether the last question came with numbered choices (as buttons on WhatsApp)."""
        if self.s["pending_erase"] or self.status in ("awaiting_consent", "resume_pending"):
            return True
        if self.confirming():
            return True  # "So ..., is that right?" comes with Yes and No
        return self.status == "in_progress" and bool(self.current) and Q.question(self.current)["type"] == "choice"

    def confirming(self) -> bool:
        """Whether the bot's last words were a check of an unsure reading of the current question."""
        return self.status == "in_progress" and bool(self.current) and "reading" in self.heard_here()

    def heard_here(self) -> dict:
        """What the carer has said to the current question so far (and a reading waiting for their yes)."""
        heard = self.s["heard"] or {}
        if self.current and heard.get("question") == self.current:
            return heard
        return {"question": self.current, "words": []}

    def words_so_far(self) -> list:
        """The carer's words to the current question, this message included."""
        return list(self.heard_here().get("words") or []) + [(self.turn.text or "").strip()]

    def do_silent(self) -> None:
        pass

    # --- asking ---------------------------------------------------------------------------------
    def ask(self, qid: str, explain: bool = False, retry: bool = False) -> None:
        heard = self.s["heard"] or {}
        if heard.get("question") != qid:
            self.set(heard=None)  # words about another question never join this one's
        elif "reading" in heard:
            self.set(heard={"question": qid, "words": list(heard.get("words") or [])})  # asked afresh
        choices = Q.choices_for(qid)
        if explain:
            self.r.say(f"q.{qid}.explain")
        self.r.say(f"q.{qid}.retry" if retry else f"q.{qid}", choices=choices or None)

    def progress_counts(self) -> tuple[int, int]:
        answers = self.s["answers"]
        total = sum(1 for qid in Q.order() if Q.applies(qid, answers))
        done = sum(1 for qid in Q.order() if qid in answers)
        return done, max(total, done)

    def recap(self) -> None:
        name = self.s["carer_name"]
        if name:
            self.r.say("welcome_back", {"name": name})
        else:
            self.r.say("welcome_back_noname")
        section = Q.question(self.current)["section"] if self.current else Q.sections()[0]
        self.r.say(f"recap.{section}")

    # --- answers --------------------------------------------------------------------------------
    def do_answer(self) -> None:
        if self.s["pending_erase"]:
            return self.confirm_erase()
        handler = {
            "not_started": self.start, "declined": self.start, "awaiting_consent": self.consent,
            "in_progress": self.in_progress, "paused": self.come_back, "resume_pending": self.resume_pending,
            "with_person": self.with_person, "completed": self.completed_already, "ended": self.do_ended,
        }.get(self.status, self.start)
        handler()

    def start(self) -> None:
        self.r.say("greet")
        self.r.say("safe_to_text")  # shared phones are common: a way out before anything else
        self.r.say("privacy_notice", choices=["choice.yes_go_on", "choice.no_not_now"])
        self.set(assessment_status="awaiting_consent")

    def consent(self) -> None:
        if re.search(NO_TEXTS, normalise(self.turn.text)):
            return self.not_safe_to_text()
        yn = self.yes_no()
        if yn == "yes":
            self.r.event("answer", question="consent", value=True, raw=self.turn.text, status="answered")
            self.r.say("saved_any_time")
            first = Q.next_after(None, self.s["answers"])
            self.set(assessment_status="in_progress", current_question=first, retries=0)
            self.ask(first)
        elif yn == "no":
            self.r.say("consent_declined")
            self.set(assessment_status="declined")
        else:
            # They have the notice already ("hi" then "hello" before reading): ask, don't send it again.
            self.r.say("consent_ask", choices=["choice.yes_go_on", "choice.no_not_now"])

    def not_safe_to_text(self) -> None:
        """Texts to this phone are not safe for the carer: stop, and a person finds another way to reach them."""
        self.r.event("answer", question="safe_to_text", value=False, raw=self.turn.text, status="answered")
        self.r.event("handoff", reason="unsafe_to_text")
        self.r.say("not_safe_to_text")
        self.set(assessment_status="with_person", pending_erase=False)

    def yes_no(self) -> Optional[str]:
        """Read yes or no from the words, then from the intent."""
        value = parse_yes_no(self.turn.text)
        if value in ("yes", "no"):
            return value
        if value is None and self.turn.confidence >= 0.6:
            return {"affirm": "yes", "resume": "yes", "deny": "no"}.get(self.turn.intent)
        return None

    def in_progress(self) -> None:
        if not self.current:
            return self.complete()
        if self.turn.hours_away >= RECAP_AFTER_HOURS and not self.changing_now():
            usable, _ = self.parse_current()
            if self.turn.intent in ("greet", "resume") or not usable:
                return self.come_back()
        self.answer_current()

    def changing_now(self) -> bool:
        return bool(self.s["changing"])

    def read_current(self, text: Optional[str] = None) -> Optional[Reading]:
        """Read the reply (or part of it) as an answer to the current question; None if it answers nothing."""
        q = Q.question(self.current)
        reading = read_answer(q, self.turn.text if text is None else text)
        if q["type"] == "yes_no" and reading is None and text is None:
            yn = self.yes_no()
            reading = Reading(yn) if yn else None
        if q["type"] == "free_text" and reading and self.turn.words <= 2 and self.turn.confidence >= 0.8 \
                and self.turn.intent in ("greet", "thanks") and self.current != "name":
            reading = None  # "hi" or "thanks" is not an answer to "who do you look after?"
        return reading

    def parse_current(self) -> tuple[bool, Any]:
        """Whether the reply says something about the current question (a check's yes or no counts)."""
        if self.confirming() and (CONFIRM_LEAD.match(self.turn.text or "") or self.yes_no()):
            return True, self.heard_here().get("reading")
        reading = self.read_current()
        return reading is not None, reading.value if reading else None

    def answer_current(self) -> None:
        qid = self.current
        heard = self.heard_here()
        asks = int(self.s["retries"] or 0)
        words = self.words_so_far()
        if "reading" in heard:
            return self.after_check(qid, heard["reading"], words, asks)
        reading = self.read_current()
        if reading is not None and reading.sure:
            return self.take(qid, reading.value, words)
        if reading is not None and asks < MAX_ASKS:
            return self.check(qid, reading.value, words, asks)
        if asks < 1:
            self.set(retries=1, heard={"question": qid, "words": words})
            self.ask(qid, retry=True)
            return
        self.take(qid, None, words, unclear=True)

    def check(self, qid: str, value: Any, words: list, asks: int) -> None:
        """Put an unsure reading to the carer in one short question, with Yes and No."""
        key, variables = Q.confirm_key(qid, value)
        self.set(retries=asks + 1, heard={"question": qid, "words": words, "reading": value})
        self.r.say(key, variables, choices=["choice.yes", "choice.no"])

    def after_check(self, qid: str, reading: Any, words: list, asks: int) -> None:
        """The carer's reply to "So ..., is that right?": yes keeps the reading; other words answer afresh."""
        text = self.turn.text or ""
        picked = picked_number(text)
        if picked in (1, 2):  # a tapped "1. Yes" or "2. No"
            text = "yes" if picked == 1 else "no"
        lead = CONFIRM_LEAD.match(text)
        rest = text[lead.end():].strip() if lead else text
        again = self.read_current(rest) if rest else None
        if again is not None and again.sure:
            return self.take(qid, again.value, words)
        verdict = parse_yes_no(lead.group(1)) if lead else None
        if lead and lead.group(1).lower() in ("correct", "right", "that's right", "thats right", "exactly", "spot on"):
            verdict = "yes"
        elif lead and lead.group(1).lower() in ("not really", "not quite", "wrong"):
            verdict = "no"
        if verdict is None and not rest.strip():
            verdict = self.yes_no()
        if verdict == "yes" and (again is None or again.value == reading):
            return self.take(qid, reading, words)
        if again is not None and again.value != reading and asks < MAX_ASKS:
            return self.check(qid, again.value, words, asks)
        if asks < MAX_ASKS:  # "no", or words that do not settle it: the question again, with its choices
            self.set(retries=asks + 1, heard={"question": qid, "words": words})
            self.ask(qid, retry=True)
            return
        self.take(qid, None, words, unclear=True)

    def take(self, qid: str, value: Any, words: list, unclear: bool = False) -> None:
        """Store the answer with every word the carer said to this question, then move on."""
        if unclear:
            status = "unclear"
        else:
            status = "changed" if self.s["changing"] == qid else "answered"
        self.record(qid, value, status, " / ".join(w for w in words if w))
        self.after_answer(qid, not unclear)

    def record(self, qid: str, value: Any, status: str, raw: Optional[str] = None) -> None:
        raw = (self.turn.text or "").strip() if raw is None else raw
        self.r.event("answer", question=qid, value=value, raw=raw, status=status)
        answers = dict(self.s["answers"])
        answers[qid] = {"value": value, "raw": raw, "status": status}
        self.set(answers=answers, retries=0, heard=None)
        if qid == "name" and value:
            name = re.sub(r"^(hi|hello|hiya)?\s*(my name is|my names|call me|i am|i'm|im|it's|its|it is)\s+",
                          "", value.strip(), flags=re.I)
            name = gsm_safe(name.split(",")[0].split(".")[0], 20).strip(" '\"")
            if name:
                self.set(carer_name=name[:1].upper() + name[1:])
        if qid == "contact_times" and status in ("answered", "changed"):
            self.r.event("contact_window", window=raw)

    def after_answer(self, qid: str, usable: bool) -> None:
        if self.s["changing"] == qid:
            back_to = self.s["return_to"]
            self.set(changing=None, return_to=None)
            self.r.say("changed_return")
            if back_to and Q.applies(back_to, self.s["answers"]):
                self.set(current_question=back_to)
                self.ask(back_to)
                return
            return self.advance(qid)
        if usable:
            self.offer_support(qid)
        self.advance(qid)

    def support_that_fits(self, qid: str) -> Optional[str]:
        """The one piece of help this answer shows a need for, if any (national facts: DOMAIN.md)."""
        v = self.s["answers"].get(qid, {}).get("value")
        hard = ("hard", "with_help", "distress", "at_risk", "cannot")  # any outcome answer short of fine
        if qid == "hours_week" and isinstance(v, (int, float)) and v >= 35:
            return "carers_allowance"
        if qid == "contingency_plan" and v == "no":
            return "emergency_plan"
        if qid == "work_impact" and v in hard:
            return "work_rights"
        if qid == "gp_knows" and v == "no":
            return "gp"
        if (qid == "recreation" and v in hard) or (qid == "nights" and v == "yes"):
            return "breaks"
        if qid == "local_groups" and v == "no":
            return "carers_centre"
        if qid == "mental_health" and isinstance(v, (int, float)) and v >= 4:
            return "carers_centre"
        return None

    def offer_support(self, qid: str) -> None:
        kind = self.support_that_fits(qid)
        offered = list(self.s["support_offered"] or [])
        if kind is None or kind in offered:
            return  # briefly: each kind of help once
        local = {"breaks": "breaks", "carers_centre": "carers_centre"}.get(kind)
        self.r.say(f"support.{kind}", local_support.variables(local) if local else None)
        self.set(support_offered=offered + [kind])

    def support_at_end(self) -> None:
        """At the end, once more and briefly: the local carers' centre, which covers the rest."""
        self.r.say("support.end", local_support.variables("carers_centre"))

    def advance(self, qid: Optional[str]) -> None:
        """Ask the question after qid (telling progress at a few section changes) or finish."""
        nxt = Q.next_after(qid, self.s["answers"])
        done, total = self.progress_counts()
        if nxt is None:
            self.r.event("progress", section=Q.question(qid)["section"] if qid else "", done=done, total=total)
            return self.complete()
        section = Q.question(nxt)["section"]
        self.r.event("progress", section=section, done=done, total=total)
        if qid and Q.question(qid)["section"] != section:
            secs = Q.sections()
            left = len(secs) - secs.index(section)
            if left == 1:
                self.r.say("progress.last_section")
            elif left == 3:
                self.r.say("progress.sections_left", {"n": 3})
            elif secs.index(section) == len(secs) // 2:
                self.r.say("progress.halfway")
        self.set(current_question=nxt, retries=0, assessment_status="in_progress")
        self.ask(nxt)

    def complete(self) -> None:
        self.r.event("completed")
        self.r.event("handoff", reason="completed")
        self.r.say("completed")
        self.r.say("completed_next")
        self.r.event("copy")  # the gateway sends the carer a short copy of what they said
        self.support_at_end()
        self.set(assessment_status="completed", current_question=None, retries=0, changing=None,
                 return_to=None)

    # --- coming back ----------------------------------------------------------------------------
    def come_back(self) -> None:
        self.recap()
        if self.turn.intent == "resume" and self.turn.confidence >= 0.6:
            self.set(assessment_status="in_progress")
            self.ask(self.current)
            return
        if self.turn.hours_away >= REVIEW_AFTER_HOURS and self.s["answers"]:
            self.r.say("carry_on_or_review", choices=["choice.carry_on", "choice.see_answers"])
        else:
            self.r.say("carry_on_ask", choices=["choice.yes", "choice.no"])
        self.set(assessment_status="resume_pending")

    def resume_pending(self) -> None:
        pick = parse_choice(self.turn.text, ["choice.carry_on", "choice.see_answers"])
        t = normalise(self.turn.text)
        if t in ("1", "2"):
            pick = {"1": "carry_on", "2": "see_answers"}[t]
        yn = self.yes_no()
        if pick == "see_answers" or any(w in t for w in ("answers", "see my", "review")):
            self.summary_messages()
            self.r.say("carry_on_ask", choices=["choice.yes", "choice.no"])
            return
        if yn == "yes" or pick == "carry_on" or self.turn.intent == "resume":
            self.set(assessment_status="in_progress", retries=0)
            self.ask(self.current)
            return
        if yn == "no":
            return self.do_pause()
        self.set(assessment_status="in_progress")
        usable, _ = self.parse_current()
        if usable and self.turn.intent not in ("greet", "thanks"):
            return self.answer_current()
        self.ask(self.current)

    def with_person(self) -> None:
        if self.turn.intent == "resume" or normalise(self.turn.text) in ("carry on", "continue"):
            self.set(assessment_status="in_progress", retries=0)
            if self.current:
                self.ask(self.current)
            else:
                self.advance(None)
            return
        self.r.say("handoff_waiting")

    def completed_already(self) -> None:
        self.r.say("already_completed")

    # --- commands -------------------------------------------------------------------------------
    def in_assessment(self) -> bool:
        return self.status in IN_ASSESSMENT and bool(self.current)

    def do_pause(self) -> None:
        if self.in_assessment() and saying.pause_time(normalise(self.turn.text)):
            # The gateway reads the time from their words with its own clock, and keeps it out of quiet hours.
            self.r.event("paused", when=(self.turn.text or "").strip())
            self.r.say("pause_at_time")
            self.set(assessment_status="paused")
        elif self.in_assessment() or self.status == "with_person":
            self.r.event("paused")
            self.r.say("pause_goodbye")
            if self.status != "with_person":
                self.set(assessment_status="paused")
        elif self.status == "completed":
            self.r.say("already_completed")
        else:
            self.r.say("pause_not_started")

    def do_resume(self) -> None:
        self.do_answer()

    def do_skip(self) -> None:
        if self.status == "resume_pending":
            self.set(assessment_status="in_progress")
        if self.status != "in_progress" or not self.current:
            return self.do_answer()
        qid = self.current
        if self.s["changing"] == qid:
            self.set(heard=None, retries=0)
            self.r.say("skip_ok")
            return self.after_answer(qid, False)
        self.record(qid, None, "skipped", " / ".join(w for w in self.words_so_far() if w))
        self.r.say("skip_ok")
        self.advance(qid)

    def do_back(self) -> None:
        if not self.in_assessment():
            if self.status == "completed":
                return self.completed_already()
            return self.do_answer()
        here = self.current
        # "go back" names no question: "back" is also a bad back, so it must not pick the physical health one.
        naming = normalise(self.turn.text)
        if not re.search(r"\b(my|bad|her|his) back\b|\bback (pain|ache|is)\b", naming):
            naming = re.sub(r"\bback\b", " ", naming)
        target = Q.find_by_words(naming, exclude=here, among=self.s["answers"])
        if target:
            after = re.split(r"\b(?:to|is|should be|was)\b", self.turn.text or "", maxsplit=1)
            if len(after) == 2 and after[1].strip():
                usable, value = parse_answer(Q.question(target), after[1].strip())
                if usable and Q.question(target)["type"] != "free_text":
                    answers = dict(self.s["answers"])
                    self.r.event("answer", question=target, value=value, raw=self.turn.text.strip(),
                                 status="changed")
                    answers[target] = {"value": value, "raw": self.turn.text.strip(), "status": "changed"}
                    self.set(answers=answers, assessment_status="in_progress")
                    self.r.say("change_done")
                    self.ask(here)
                    return
        else:
            target = Q.previous_before(here, self.s["answers"])
        if not target:
            self.r.say("back_at_start")
            self.set(assessment_status="in_progress")
            self.ask(here)
            return
        self.r.say("change_ok")
        self.set(changing=target, return_to=self.s["return_to"] or here, current_question=target,
                 retries=0, assessment_status="in_progress")
        self.ask(target)

    def do_repeat(self) -> None:
        if self.in_assessment():
            self.set(assessment_status="in_progress")
            self.ask(self.current, explain=True)
        elif self.status == "awaiting_consent":
            self.r.say("privacy_notice", choices=["choice.yes_go_on", "choice.no_not_now"])
        else:
            self.do_answer()

    def summary_messages(self) -> None:
        answers = self.s["answers"]
        done, total = self.progress_counts()
        if not answers:
            self.r.say("summary_empty")
            return
        self.r.say("summary_head", {"done": done, "total": total})
        words = [a.get("raw", "") for qid, a in answers.items()
                 if qid in Q.load()["questions"] and Q.question(qid)["type"] == "free_text"
                 and a.get("status") != "skipped" and a.get("raw")]
        if words:
            self.r.say("summary_words", {"words": gsm_safe(" / ".join(words), 260)})

    def do_summary(self) -> None:
        if self.status == "completed":
            self.r.say("summary_after_completed")
            self.summary_messages()
            return
        self.summary_messages()
        if self.in_assessment():
            self.set(assessment_status="in_progress")
            self.ask(self.current)

    def do_help(self) -> None:
        if self.status in ("not_started", "declined", "awaiting_consent"):
            self.r.say("help_not_started")
        else:
            self.r.say("help")
            self.ask_again()

    def ask_again(self) -> None:
        """After answering an aside, the question the carer was on (or whether to start)."""
        if self.s["pending_erase"]:
            return
        if self.in_assessment():
            self.set(assessment_status="in_progress")
            self.ask(self.current)
        elif self.status == "awaiting_consent":
            self.r.say("consent_ask", choices=["choice.yes_go_on", "choice.no_not_now"])

    def do_what_is_this(self) -> None:
        self.r.say("about_service")
        self.ask_again()

    def do_who_sees(self) -> None:
        self.r.say("who_sees")
        self.ask_again()

    def do_how_long(self) -> None:
        done, total = self.progress_counts()
        if self.in_assessment() and done:
            self.r.say("how_long_so_far", {"done": done, "total": total})
        else:
            self.r.say("how_long")
        self.ask_again()

    def do_bereavement(self) -> None:
        """The person cared for has died: condolences, a person soon, and never another question."""
        self.r.event("handoff", reason="bereavement")
        self.r.event("life_event", kind="bereavement")
        self.r.say("bereavement")
        self.set(assessment_status="ended", pending_erase=False, changing=None, return_to=None)

    def do_ended(self) -> None:
        self.r.say("after_bereavement")

    def do_care_home_or_hospital(self) -> None:
        """The person cared for is in a care home or hospital: the questions wait and a person gets in touch."""
        self.r.event("handoff", reason="circumstances_changed")
        self.r.say("care_home_or_hospital")
        if self.status in IN_ASSESSMENT | {"not_started", "awaiting_consent", "declined"}:
            self.set(assessment_status="with_person", pending_erase=False)

    def do_wrong_number(self) -> None:
        """Not the carer's number: sorry, and never text it again (the gateway sends the apology, then stops)."""
        self.r.event("opt_out", confirm="wrong_number")
        self.set(opted_out=True, pending_erase=False)

    def do_human(self) -> None:
        if self.status == "with_person":
            self.r.say("handoff_waiting")
            return
        self.r.event("handoff", reason="asked_for_person")
        self.r.say("handoff_asked")
        self.set(assessment_status="with_person", pending_erase=False)

    def do_safeguarding(self) -> None:
        """The NLU heard a risk the gateway's screen did not: the gateway asks whether they are safe.

        The message is not stored as an answer and the question stays where it was, so "yes, I am safe"
        carries on with it; "no" reaches the crisis reply and a person at once."""
        self.r.event("handoff", reason="safeguarding", flags=["nlu"])
        self.set(pending_erase=False)

    def do_opt_out(self) -> None:
        if keyword(self.turn.text) in OPT_OUT_WORDS:
            self.r.event("opt_out")  # a keyword: on SMS the carrier confirms it itself
        else:
            self.r.event("opt_out", confirm="opted_out")  # their own words: nobody else confirms it
        self.set(opted_out=True, pending_erase=False)

    def do_opt_in(self) -> None:
        if not self.s["opted_out"] and not self.in_assessment():
            return self.do_answer()
        self.r.event("opt_in")
        self.set(opted_out=False)
        if self.in_assessment():
            self.r.say("opt_in_welcome")
            self.set(assessment_status="in_progress", retries=0)
            self.ask(self.current)
        elif self.status == "with_person":
            self.r.say("handoff_waiting")
        else:
            self.set(assessment_status="not_started")
            self.start()

    def do_erase(self) -> None:
        self.r.say("erase_confirm_ask", choices=["choice.yes", "choice.no"])
        self.set(pending_erase=True)

    def confirm_erase(self) -> None:
        if self.yes_no() == "yes" and self.turn.intent != "deny":
            self.r.event("erase_confirmed")
            self.r.say("erase_done")
            for k, v in DEFAULTS.items():
                self.set(**{k: v})
            return
        self.set(pending_erase=False)
        self.r.say("erase_cancelled")
        if self.in_assessment():
            self.set(assessment_status="in_progress")
            self.ask(self.current)

    def do_contact_window(self) -> None:
        window = gsm_safe(self.turn.text, 80)
        self.r.event("contact_window", window=(self.turn.text or "").strip())
        self.r.say("contact_window_ok", {"window": window})

    def do_handback(self) -> None:
        """A worker handed the conversation back (EXTERNAL_resume): say so and ask the exact question."""
        if self.status == "completed":
            self.r.say("handback_completed")
            return
        if self.status == "ended":
            self.r.say("handback_ended")
            return
        self.set(pending_erase=False)
        if self.current and self.status in IN_ASSESSMENT | {"with_person"}:
            self.r.say("handback_carry_on")
            self.set(assessment_status="in_progress", retries=0)
            self.ask(self.current)
            return
        self.r.say("handback_start")
        self.r.say("consent_ask", choices=["choice.yes_go_on", "choice.no_not_now"])
        self.set(assessment_status="awaiting_consent")

    def do_reminder(self) -> None:
        if self.status in IN_ASSESSMENT and self.current and not self.s["pending_erase"]:
            self.r.say("reminder")
            section = Q.question(self.current)["section"]
            self.r.say(f"recap.{section}")
            self.r.say("carry_on_ask", choices=["choice.yes", "choice.no"])
            self.set(assessment_status="resume_pending")


def handle(command: str, slots: dict, turn: Turn) -> Result:
    """Run one turn of the conversation."""
    return Conversation(slots, turn).handle(command)
