"""One carer texting the gateway on the real Rasa server, and the replies that fit each question."""

from __future__ import annotations

import time

from sqlalchemy import select

from bot.catalogue import default_catalogue
from bot.models import Conversation, Message

CAT = default_catalogue()
# A reply that fits each question, in the ways carers text.
REPLY = {"name": "call me Jo", "contact_times": "evenings", "cared_for_who": "my mum",
         "cared_for_needs": "dementia and a bad hip", "lives_with": "yep", "caring_tasks": "washing meals meds",
         "hours_week": "about forty hrs a wk", "nights": "most nights", "willing_to_continue": "2",
         "able_in_future": "not sure", "physical_health": "4", "mental_health": "5",
         "health_detail": "bad back and no sleep", "child_care": "6", "caring_for_others": "6", "home": "2",
         "nutrition": "1", "home_life_detail": "no time to clean or cook", "relationships": "2", "work_status": "1",
         "work_impact": "3", "community": "1", "recreation": "3", "your_life_detail": "never any time for me",
         "what_would_help": "help at home and a day off each week", "family_friends": "my sister on sundays",
         "local_groups": "no", "involve_others": "no", "contingency_plan": "nope", "gp_knows": "yes",
         "anything_else": "no thats all"}
QUESTION_TEXT = sorted(((CAT.text(f"q.{q}{s}"), q) for q in REPLY for s in ("", ".retry")),
                       key=lambda t: -len(t[0]))


class Chat:
    """One carer texting the gateway; `say` waits for every reply to that message."""

    def __init__(self, live, phone, twilio, number):
        from webhooks import create_app

        self.live, self.twilio = live, twilio
        self.phone = phone(number)
        self.phone.client = create_app(services=live).test_client()
        self.seen = 0
        self.rasa_said: list[dict] = []
        reply = live.rasa.reply

        def recording(sender, text, metadata):
            out = reply(sender, text, metadata)
            self.rasa_said += [m.get("custom") or {} for m in out]
            return out
        live.rasa.reply = recording

    def say(self, text: str, timeout: float = 30.0) -> list[str]:
        sid = "SM" + __import__("uuid").uuid4().hex
        self.live.clock.advance(seconds=30)  # a carer types at a human pace (and per-number flood control)
        assert self.phone.send(text, sid=sid).status_code == 200
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.live.db.session() as s:
                msg = s.scalars(select(Message).where(Message.twilio_sid == sid)).first()
                if msg is not None and msg.state == "done":
                    out = s.scalars(select(Message).where(Message.carer_id == msg.carer_id,
                                                          Message.direction == "out")).all()
                    if all(m.state not in ("pending", "queued", "sending") for m in out) \
                            and len(self.twilio.messages(to=self.phone.address)) >= sum(1 for m in out if m.twilio_sid):
                        break
            time.sleep(0.05)
        else:
            raise AssertionError(f"no answer to {text!r}")
        bodies = [m["body"] for m in self.twilio.messages(to=self.phone.address)]
        new, self.seen = bodies[self.seen:], len(bodies)
        return new

    def question(self, bodies: list[str]) -> str | None:
        """The question the last of these messages asks, if any."""
        for body in reversed(bodies):
            for text, qid in QUESTION_TEXT:
                if body.startswith(text):
                    return qid
        return None

    def start(self) -> str:
        assert "Shall we start?" in " ".join(self.say("hi"))
        return self.question(self.say("yes"))

    def answer_until(self, qid: str | None, stop_at: str | None = None, on_each=None) -> str | None:
        for _ in range(60):  # a bound, so a loop in the dialogue fails instead of hanging
            if qid is None or qid == stop_at:
                break
            replies = self.say(REPLY[qid])
            if on_each:
                on_each(qid, replies)
            nxt = self.question(replies)
            assert nxt != qid or qid in ("name",), f"stuck on {qid}: {replies}"
            qid = nxt
        else:
            raise AssertionError(f"the assessment did not end; last question {qid}")
        return qid

    def conversation(self, s) -> Conversation:
        return s.scalars(select(Conversation)).one()
