"""Every key Rasa can send exists in the English catalogue, and every text fits 2 GSM-7 SMS segments."""

import re
import string
from pathlib import Path

import pytest
import yaml

from actions import flow
from actions import questions as Q

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load((ROOT / "bot/catalogue/en/assessment.yml").read_text(encoding="utf-8"))
GSM7 = flow.GSM7 | {"\n", "\r"}
SAMPLE_VARS = {"name": "X" * 20, "done": 27, "total": 31, "n": 3, "window": "W" * 80, "words": "w" * 260,
               "centre": "C" * 40, "phone": "P" * 20, "link": "L" * 40,
               "who": "W" * 20, "hours": "168", "hard": "H" * 40, "help": "E" * 60}
ACTIONS = ROOT / "rasa_project/actions"
REG3 = ["reg3_child_care", "reg3_caring_for_others", "reg3_home", "reg3_nutrition", "reg3_relationships",
        "reg3_work_training", "reg3_community", "reg3_recreation"]
S10 = ["s10_5_able_willing", "s10_5_wellbeing", "s10_5_outcomes", "s10_5_support", "s10_6_work",
       "s10_7_involve", "s10_8_other_support", "contingency_plan"]


def formatted(key):
    names = [f for _, f, _, _ in string.Formatter().parse(CATALOGUE[key]) if f]
    return CATALOGUE[key].format(**{n: SAMPLE_VARS[n] for n in names})


def with_choices(text, choices):
    return text + "".join(f"\n{i} {CATALOGUE[c]}" for i, c in enumerate(choices, 1))


def test_every_question_has_its_texts():
    for qid in Q.order():
        for suffix in ("", ".explain", ".retry"):
            assert f"q.{qid}{suffix}" in CATALOGUE, f"q.{qid}{suffix}"
        for choice in Q.choices_for(qid):
            assert choice in CATALOGUE, choice


def test_every_key_the_actions_send_exists():
    code = "\n".join(p.read_text() for p in ACTIONS.glob("*.py"))
    keys = set(re.findall(r"""say\(\s*["']([a-z_.]+)["']""", code))
    keys |= set(re.findall(r"""["'](choice\.[a-z_]+)["']""", code))
    keys |= {f"recap.{s}" for s in Q.sections()}
    domain = (ROOT / "rasa_project/domain/actions.yml").read_text()
    keys |= set(re.findall(r"say: ([a-z_.]+)", domain))
    missing = sorted(k for k in keys if k not in CATALOGUE)
    assert not missing


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_text_is_gsm7_and_two_segments_at_most(key):
    text = formatted(key)
    assert set(text) <= GSM7, [c for c in text if c not in GSM7]
    assert len(text) <= 306


def test_questions_with_their_choices_fit():
    for qid in Q.order():
        for suffix in ("", ".retry"):
            assert len(with_choices(CATALOGUE[f"q.{qid}{suffix}"], Q.choices_for(qid))) <= 306


def test_every_outcome_and_duty_is_asked_about():
    served = {tag for qid in Q.order() for tag in Q.question(qid)["serves"]}
    assert set(REG3) <= served
    assert set(S10) <= served
    # Each reg 3 outcome has a question of its own that is always asked, not only a follow-up.
    for tag in REG3:
        assert any(tag in Q.question(q)["serves"] and not Q.question(q).get("ask_if") for q in Q.order()) \
            or tag == "reg3_work_training", tag


def test_question_types_are_known():
    for qid in Q.order():
        q = Q.question(qid)
        assert q["type"] in {"yes_no", "number", "scale", "choice", "free_text"}
        assert (q["type"] == "choice") == bool(q.get("choices"))
