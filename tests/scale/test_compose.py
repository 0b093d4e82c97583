"""compose.yaml, checked as data: no Docker engine runs where the suite runs, so it is never started here."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.config import ROOT, Settings

pytestmark = pytest.mark.scale

COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
ROLES = set(re.findall(r"^\s+([a-z-]+)\)", (ROOT / "scripts" / "docker-entrypoint.sh").read_text(), re.M)) - {"*"}
BOT_ROLES = {"web", "worker", "scheduler", "init-db"}


def role(name: str) -> str | None:
    command = SERVICES[name].get("command")
    return command[0] if command else None


def by_role(r: str) -> list[str]:
    return [n for n in SERVICES if role(n) == r]


def test_the_deployment_has_every_part_in_the_right_number():
    assert {"postgres", "redis"} <= set(SERVICES)
    assert len(by_role("web")) == 2 and len(by_role("worker")) == 2 and len(by_role("rasa")) == 2
    assert len(by_role("scheduler")) == 1 and len(by_role("actions")) == 1 and len(by_role("init-db")) == 1


def test_every_role_is_one_the_image_knows():
    for name in SERVICES:
        if role(name) is not None and SERVICES[name].get("image", "").startswith("carertext"):
            assert role(name) in ROLES, name


def test_bot_processes_share_postgresql_and_name_only_real_settings():
    settings = {f.upper() for f in Settings.__dataclass_fields__}
    for name in SERVICES:
        if role(name) not in BOT_ROLES:
            continue
        env = SERVICES[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://"), name
        assert env["PRODUCTION"] == "1" and env["PUBLIC_BASE_URL"], name
        assert set(env) - {"PORT", "WEB_CONCURRENCY"} <= settings, (name, set(env) - settings)
        if role(name) in {"web", "worker", "scheduler"}:
            assert env["RASA_URL"].split("//")[1].split(":")[0] in by_role("rasa"), name
            assert SERVICES[name]["depends_on"]["init-db"]["condition"] == "service_completed_successfully"


def test_rasa_servers_share_the_sql_tracker_store_and_the_redis_lock_store():
    for name in by_role("rasa"):
        env = SERVICES[name]["environment"]
        assert env["RASA_LOCK_STORE"] == "redis" and env["REDIS_HOST"] == "redis"
        assert env["RASA_TRACKER_DIALECT"] == "postgresql" and env["RASA_TRACKER_HOST"] == "postgres"
        assert env["ACTIONS_URL"].startswith("http://" + by_role("actions")[0] + ":")
    first, second = (SERVICES[n]["environment"] for n in by_role("rasa"))
    assert first == second
    # run_rasa.sh reads exactly these names
    script = (ROOT / "scripts" / "run_rasa.sh").read_text()
    for key in first:
        assert key in script, key


def test_no_secret_is_written_in_the_file():
    text = (ROOT / "compose.yaml").read_text()
    for key in ("POSTGRES_PASSWORD", "SECRET_KEY", "TWILIO_AUTH_TOKEN"):
        for value in re.findall(rf"{key}: (\S+)", text):
            assert value.startswith("${"), key
