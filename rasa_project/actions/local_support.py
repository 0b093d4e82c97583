"""The council's local support (names, numbers, links) from config/local_support.yml, made safe for SMS."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "config" / "local_support.yml"
ENV_VAR = "CARERTEXT_LOCAL_SUPPORT"
FALLBACK = {"carers_centre": {"name": "your local carers' centre", "phone": "your council", "link": "GOV.UK"},
            "breaks": {"name": "the council's carers team", "phone": "your council", "link": "GOV.UK"}}
LIMITS = {"name": 40, "phone": 20, "link": 40}


def _clean(text, limit: int) -> str:
    text = re.sub(r"[^A-Za-z0-9 '&().,:/+\-@]", "", str(text or "")).strip()
    return text[:limit].strip()


@lru_cache(maxsize=4)
def load(path: str | None = None) -> dict:
    """{'carers_centre': {name, phone, link}, 'breaks': {...}}; missing parts fall back to plain words."""
    file = Path(path or os.environ.get(ENV_VAR) or DEFAULT_FILE)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        data = {}
    out = {}
    for part, defaults in FALLBACK.items():
        given = data.get(part) or {}
        out[part] = {k: _clean(given.get(k), LIMITS[k]) or v for k, v in defaults.items()}
    return out


def variables(part: str) -> dict:
    """The catalogue variables for one kind of support: {centre}, {phone}, {link}."""
    found = load()[part]
    return {"centre": found["name"], "phone": found["phone"], "link": found["link"]}
