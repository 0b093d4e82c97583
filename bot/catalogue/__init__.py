"""Every sentence a carer reads, by language: one folder per language, YAML files of key -> text."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent

# What SMS fixes in every language (GSM-7, Twilio's keywords), shared with the action server.
SMS = yaml.safe_load((HERE / "sms.yml").read_text(encoding="utf-8"))
GSM7_BASIC: frozenset[str] = frozenset(SMS["gsm7_basic"])
GSM7_EXTENDED: frozenset[str] = frozenset(SMS["gsm7_extended"])
OPT_OUT_WORDS: frozenset[str] = frozenset(SMS["opt_out"])
OPT_IN_WORDS: frozenset[str] = frozenset(SMS["opt_in"])


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def segments(text: str) -> int:
    """How many SMS segments Twilio bills for this text."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        return 1 if units <= 160 else -(-units // 153)
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    return 1 if units <= 70 else -(-units // 67)


def choice_line(number: int, title: str) -> str:
    """One numbered choice as a carer reads it ("2. No"); a tapped WhatsApp button is stored the same way."""
    return f"{number}. {title}"


class Catalogue:
    """Texts by language; falls back to the default language for a missing key."""

    def __init__(self, folder: Path = HERE, default_language: str = "en"):
        self.default_language = default_language
        self.texts: dict[str, dict[str, str]] = {}
        for lang_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("_")):
            merged: dict[str, str] = {}
            for f in sorted(lang_dir.glob("*.yml")):
                data = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
                for key, text in data.items():
                    if key in merged:
                        raise ValueError(f"catalogue key {key!r} defined twice in {lang_dir.name}")
                    merged[str(key)] = str(text).strip()
            self.texts[lang_dir.name] = merged

    @property
    def languages(self) -> list[str]:
        return sorted(self.texts)

    def has(self, key: str, language: str | None = None) -> bool:
        return key in self.texts.get(language or self.default_language, {}) or key in self.texts[self.default_language]

    def is_choice(self, text: str, language: str | None = None) -> bool:
        """Whether the text is one of the offered choices, typed or tapped ("3. I can't manage it")."""
        words = " ".join(text.lower().replace("\u2019", "'").split()).rstrip(".!")
        if words[:1].isdigit() and words[1:3] == ". ":
            words = words[3:]
        table = {**self.texts[self.default_language], **self.texts.get(language or self.default_language, {})}
        return any(k.startswith("choice.") and v.lower() == words for k, v in table.items())

    def text(self, key: str, language: str | None = None, **variables: object) -> str:
        """The sentence for `key` in `language`, with its {placeholders} filled in."""
        table = self.texts.get(language or self.default_language, {})
        template = table.get(key) or self.texts[self.default_language][key]
        return template.format(**variables) if variables else template

    def render(self, key: str, language: str | None = None, variables: dict[str, object] | None = None,
               choices: list[str] | None = None) -> str:
        """A message with numbered choices appended, the way carers reply "1", "2" or "3"."""
        body = self.text(key, language, **(variables or {}))
        if choices:
            lines = [choice_line(i, self.text(choice, language)) for i, choice in enumerate(choices, 1)]
            body = body + "\n" + "\n".join(lines)
        return body


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    return Catalogue()
