"""The README's settings table lists every setting the code reads."""

from dataclasses import fields

from bot.config import ROOT, Settings


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [f.name.upper() for f in fields(Settings) if f"`{f.name.upper()}`" not in readme]
    assert missing == []
