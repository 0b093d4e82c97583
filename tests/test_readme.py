"""The settings reference lists every setting the code reads; the README stays short and points to it."""

from dataclasses import fields

from bot.config import ROOT, Settings


def test_every_setting_is_in_the_settings_reference():
    reference = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = [f.name.upper() for f in fields(Settings) if f"`{f.name.upper()}`" not in reference]
    assert missing == []


def test_the_readme_is_a_short_read():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/settings.md" in readme
    assert len(readme.split()) <= 1000
