"""Answers in carers' own words, labelled by a writer who never saw the parser, are read as they meant them.

The set is for tuning (held-out figures are bench/eval's). A reading is right, checked with the carer ("So ...,
is that right?"), asked again, or misread: a sure value the carer did not give, the one kind never seen.
"""

import json
from collections import Counter
from pathlib import Path

from actions import questions as Q
from actions.parsing import read_answer

DEVSET = Path(__file__).with_name("answers_devset.jsonl")
# Under the figures the parser reaches today (4.3% misread, 78% right): a change that reads worse fails.
CEILING_MISREAD = 0.05
FLOOR_RIGHT = 0.75


def verdict(question: str, text: str, label) -> str:
    reading = read_answer(Q.question(question), text)
    if reading is None:
        return "asked again"
    if not reading.sure:
        return "checked"
    if label == "unclear":
        return "misread"
    if isinstance(label, int):
        return "right" if isinstance(reading.value, (int, float)) and abs(reading.value - label) < 0.5 else "misread"
    return "right" if str(reading.value) == label else "misread"


def test_answers_are_read_as_meant_or_checked():
    rows = [json.loads(line) for line in DEVSET.read_text(encoding="utf-8").splitlines() if line.strip()]
    got = Counter()
    misread = []
    for row in rows:
        v = verdict(row["question"], row["text"], row["value"])
        got[v] += 1
        if v == "misread":
            misread.append((row["question"], row["text"], row["value"]))
    assert got["misread"] / len(rows) <= CEILING_MISREAD, misread
    assert got["right"] / len(rows) >= FLOOR_RIGHT, got
