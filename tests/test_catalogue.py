"""Every catalogue text, in every language, is GSM-7 and at most 2 SMS segments once formatted; every key the
Rasa project can send exists."""

from __future__ import annotations

import re
import string

import pytest
import yaml

from bot.catalogue import HERE as CATALOGUE_DIR, Catalogue, is_gsm7, segments
from bot.config import ROOT

RASA = ROOT / "rasa_project"
# The longest a variable can plausibly be when formatted (the senders trim to these lengths or less).
PLAUSIBLE = {"name": "Bartholomew-Smythe X", "done": "31", "total": "31", "n": "3", "window": "W" * 80,
             "words": "w" * 260, "centre": "C" * 40, "phone": "01632 960000 ext 123", "link": "L" * 40,
             "who": "my mum who has dementia", "hours": "168", "hard": "home, meals, work, time for you",
             "help": "a break once a week", "case": "C-000123", "flags": "self_harm, harm_to_other",
             "section": "plans about an emergency"}
FILES = sorted(CATALOGUE_DIR.glob("*/*.yml"))
ENTRIES = [(f, key, str(text).strip()) for f in FILES
           for key, text in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).items()]


def formatted(text: str) -> str:
    names = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    return text.format(**{n: PLAUSIBLE[n] for n in names})


@pytest.mark.parametrize("path,key,text", ENTRIES, ids=[f"{f.parent.name}/{f.name}:{k}" for f, k, _ in ENTRIES])
def test_every_text_is_gsm7_and_fits_two_segments(path, key, text):
    body = formatted(text)
    assert is_gsm7(body), [c for c in body if not is_gsm7(c)]
    assert segments(body) <= 2, f"{key}: {segments(body)} segments"


def test_questions_with_their_choices_fit_two_segments():
    cat = Catalogue()
    questions = yaml.safe_load((RASA / "actions/questions.yml").read_text(encoding="utf-8"))
    for section in questions["sections"]:
        for q in section["questions"]:
            for suffix in ("", ".retry"):
                body = cat.render(f"q.{q['id']}{suffix}", "en", choices=q.get("choices"))
                assert is_gsm7(body) and segments(body) <= 2, q["id"]


def keys_rasa_can_send() -> set[str]:
    """Literal keys in the actions and domain, plus the keys the actions build from questions and sections."""
    keys: set[str] = set()
    sources = [p.read_text(encoding="utf-8") for p in (RASA / "actions").glob("*.py")]
    sources += [p.read_text(encoding="utf-8") for p in (RASA / "domain").glob("*.yml")]
    for src in sources:
        keys |= set(re.findall(r"\.say\(\s*\"([a-z0-9_.]+)\"", src))
        keys |= set(re.findall(r"say:\s*([a-z0-9_.]+)", src))
        keys |= set(re.findall(r"\"(choice\.[a-z_]+)\"", src))
        fits = re.search(r"def support_that_fits.*?\n    def ", src, re.S)
        if fits:  # support.{kind}: the kinds this function returns
            keys |= {f"support.{k}" for k in re.findall(r"return \"([a-z_]+)\"", fits.group(0))}
    questions = yaml.safe_load((RASA / "actions/questions.yml").read_text(encoding="utf-8"))
    for section in questions["sections"]:
        keys.add(f"recap.{section['id']}")
        for q in section["questions"]:
            keys |= {f"q.{q['id']}", f"q.{q['id']}.explain", f"q.{q['id']}.retry", *q.get("choices", [])}
            keys |= set(_rasa_questions().confirm_keys(q["id"]))
    return keys


def _rasa_questions():
    """The action server's questions module, loaded on its own (it needs no Rasa) for the keys it builds."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("rasa_questions", RASA / "actions/questions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_key_rasa_can_send_is_in_every_catalogue():
    cat = Catalogue()
    keys = keys_rasa_can_send()
    assert len(keys) > 100
    for language in cat.languages:
        missing = sorted(k for k in keys if k not in cat.texts[language])
        assert missing == [], f"{language}: {missing}"
