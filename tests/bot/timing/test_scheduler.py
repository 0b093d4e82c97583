"""The scheduler process: jobs added once by id, and a real run that sends a due reminder and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler

from bot.timing import scheduler as scheduler_mod
from bot.config import ROOT
from bot.db import Database
from bot.models import Carer, Conversation
from bot.timing.reminders import Reminder


def test_each_job_is_added_once_with_an_explicit_id(services):
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    scheduler.start(paused=True)
    try:
        for job in services.jobs + services.jobs:  # a restart adding them again replaces them
            scheduler_mod.add_job(scheduler, job)
        jobs = scheduler.get_jobs()
        assert sorted(j.id for j in jobs) == sorted([scheduler_mod.REMINDERS_JOB_ID, scheduler_mod.BROADCASTS_JOB_ID,
                                                     scheduler_mod.RETENTION_JOB_ID])
        assert {j.func for j in jobs} == {scheduler_mod.run_job}  # importable, whatever the work
    finally:
        scheduler.shutdown(wait=False)


def test_a_job_not_running_in_this_process_does_nothing():
    scheduler_mod.run_job(scheduler_mod.REMINDERS_JOB_ID)


def test_run_scheduler_sends_a_due_reminder_and_stops_on_sigterm(settings, twilio):
    now = datetime.now(timezone.utc)
    db = Database(settings.database_url)
    with db.session() as session:
        carer = Carer(phone="+447700900555", channel="sms", created_at=now - timedelta(days=2),
                      last_inbound_at=now - timedelta(days=2))
        session.add(carer)
        session.flush()
        conv = Conversation(carer_id=carer.id, started_at=now - timedelta(days=2), assessment_status="in_progress",
                            current_section="caring")
        session.add(conv)
        session.flush()
        session.add(Reminder(carer_id=carer.id, conversation_id=conv.id, kind="nudge1",
                             anchor_at=now - timedelta(days=2), planned_at=now - timedelta(minutes=1),
                             due_at=now - timedelta(minutes=1), state="pending", created_at=now))
    db.engine.dispose()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "TWILIO_API_BASE_URL": settings.twilio_api_base_url,
           "TWILIO_ACCOUNT_SID": settings.twilio_account_sid, "TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
           "QUIET_HOURS": "", "REMINDER_TICK_SECONDS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from bot.config import Settings; from bot.services import build; "
                               "from bot.timing.scheduler import run_scheduler; "
                               "run_scheduler(build(Settings.from_env()))"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        got = twilio.wait_for(1, timeout=30, to="+447700900555")
        assert "the caring you do" in got[0]["body"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out.decode()[-2000:]
    assert b"+447700900555" not in out and b"caring you do" not in out  # no numbers or words in logs
