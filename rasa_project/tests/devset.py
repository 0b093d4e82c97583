"""Commands said mid-question, through the trained model and the flow: what the bot does with each message.

Usage: python devset.py [commands_fresh.yml]   (prints the table; test_commands_devset.py holds the floors)
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PROJECT = ROOT / "rasa_project"
DEVSET = HERE / "commands_devset.yml"
FRESH = HERE / "commands_fresh.yml"
# Where a command is said: one question of each kind, late enough that earlier answers can be changed.
ASKED_AT = {"free_text": "what_would_help", "choice": "home", "yes_no": "local_groups"}


def trained_model() -> str:
    out = subprocess.run([str(ROOT / "scripts/train_rasa.sh")], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def parser(model: str):
    """Return parse(text) -> (intent, confidence) from the trained model, in process."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import logging

    import sanic  # noqa: F401  (imported before rasa: sanic resets the warning filters)
    import warnings

    warnings.simplefilter("ignore")
    from rasa.core.agent import Agent

    import structlog

    logging.getLogger("rasa").setLevel(logging.ERROR)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(model)
    loop = asyncio.new_event_loop()

    def parse(text: str) -> tuple[str, float]:
        intent = loop.run_until_complete(agent.parse_message(text))["intent"]
        return intent["name"], float(intent["confidence"])
    return parse


def command_of() -> dict[str, str]:
    """Intent -> the flow command its rule runs."""
    from actions.base import commands_by_intent

    return commands_by_intent()


def slots_at(qid: str) -> dict:
    """The slots of a carer who answered everything up to qid and is being asked it now."""
    from test_flow import started

    c = started()
    while c.slots["current_question"] != qid:
        c.answer_current()
    return dict(c.slots)


def outcome(result, qid: str, before: dict) -> str:
    """Name what the bot did with the message."""
    said = [m["say"] for m in result.messages if "say" in m]
    events = {m["event"]: m for m in result.messages if "event" in m}
    answer = events.get("answer")
    if "opt_out" in events:
        return "wrong_number" if events["opt_out"].get("confirm") == "wrong_number" else "opt_out"
    if "paused" in events:
        return "pause_with_time" if events["paused"].get("when") else "pause"
    handoff = (events.get("handoff") or {}).get("reason")
    for key in ("bereavement", "care_home_or_hospital"):
        if key in said:
            return key
    if handoff == "asked_for_person":
        return "human"
    for key, name in (("help", "help"), ("about_service", "what_is_this"), ("who_sees", "who_sees"),
                      ("how_long", "how_long"), ("how_long_so_far", "how_long"), ("erase_confirm_ask", "erase"), ("summary_head", "summary"),
                      ("summary_empty", "summary")):
        if key in said:
            return name
    if answer and answer["question"] == qid and answer["status"] == "skipped":
        return "skip"
    if "change_ok" in said or "change_done" in said:
        target = result.slots.get("current_question")
        from actions import questions as Q
        return "back" if target == Q.previous_before(qid, before["answers"]) else "change:" + str(target)
    checking = any(key.startswith(("confirm.", f"q.{qid}.confirm")) for key in said)  # "So ..., is that right?"
    if (answer and answer["question"] == qid) or f"q.{qid}.retry" in said or checking:
        return "answer"
    if f"q.{qid}.explain" in said:
        return "repeat"
    return "other:" + ",".join(said)


def load(path: Path = DEVSET) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # "yes" and "2" are words a carer typed, not YAML's booleans and numbers.
    return {part: {k: [_typed(v) for v in vs] for k, vs in data[part].items()} for part in data}


def _typed(value) -> str:
    return {True: "yes", False: "no"}.get(value, str(value)) if isinstance(value, bool) else str(value)


def run(parse, path: Path = DEVSET) -> dict:
    """Return {'commands': {name: (understood, total, misses)}, 'answers': (taken, total, misses)}."""
    from actions import questions as Q
    from actions.flow import Turn, handle

    data, commands = load(path), command_of()
    at = {kind: slots_at(q) for kind, q in ASKED_AT.items()}
    report: dict = {"commands": {}, "answers": None}
    for name, phrasings in data["commands"].items():
        ok, total, misses = 0, 0, []
        for line in phrasings:
            want = name
            if name == "change_topic":
                target, line = line.split(" | ", 1)
                want = "change:" + target
            intent, conf = parse(line)
            for kind, slots in at.items():
                qid = slots["current_question"]
                result = handle(commands.get(intent, "answer"), slots, Turn(intent, conf, line, {}))
                got = outcome(result, qid, slots)
                total += 1
                if got == want:
                    ok += 1
                else:
                    misses.append((kind, line, intent, round(conf, 2), got))
        report["commands"][name] = (ok, total, misses)
    taken, total, misses = 0, 0, []
    for qid, replies in data["answers"].items():
        slots = slots_at(qid)
        for line in replies:
            intent, conf = parse(line)
            result = handle(commands.get(intent, "answer"), slots, Turn(intent, conf, line, {}))
            got = outcome(result, qid, slots)
            total += 1
            if got != "answer":
                taken += 1
                misses.append((Q.question(qid)["type"], qid, line, intent, round(conf, 2), got))
    report["answers"] = (taken, total, misses)
    return report


def table(report: dict) -> str:
    lines = ["| command | understood |", "| --- | --- |"]
    for name, (ok, total, _) in report["commands"].items():
        lines.append(f"| {name} | {ok}/{total} ({100 * ok / total:.0f}%) |")
    taken, total, _ = report["answers"]
    lines.append(f"| ordinary answers taken for a command | {taken}/{total} ({100 * taken / total:.1f}%) |")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(PROJECT))
    sys.path.insert(0, str(HERE))
    rep = run(parser(trained_model()), HERE / sys.argv[1] if len(sys.argv) > 1 else DEVSET)
    print(table(rep))
    for name, (_, _, misses) in rep["commands"].items():
        for m in misses:
            print("MISS", name, m)
    for m in rep["answers"][2]:
        print("TAKEN", m)
