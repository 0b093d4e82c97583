"""The one scheduler process: APScheduler only triggers the tick; what is due lives in our tables."""

from __future__ import annotations

import logging
import signal
from datetime import datetime, timezone

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from bot.council import broadcasts
from bot.privacy import retention
from bot.timing import reminders

log = logging.getLogger("carertext.scheduler")

JOB_ID = "carertext-reminders-tick"
BROADCASTS_JOB_ID = "carertext-broadcasts-tick"
# The services of the scheduler running in this process; the job is a plain importable function.
_services = None


def _run(name: str, work) -> None:
    """Run one job against this process's services; a bad moment is logged and the next run tries again."""
    if _services is None:
        return
    try:
        work(_services)
    except Exception:  # the database may be restarting: nothing is lost, the work is still due
        log.exception("%s failed", name)


def _reminders(services) -> None:
    result = reminders.tick(services)
    if result.handed or result.rescheduled or result.skipped or result.rerouted:
        log.info("tick handed=%s rescheduled=%s skipped=%s rerouted=%s sent=%s", result.handed,
                 result.rescheduled, result.skipped, result.rerouted, result.sent)


def _broadcasts(services) -> None:
    result = broadcasts.tick(services)
    if result.started or result.queued or result.skipped or result.finished:
        log.info("broadcast tick started=%s queued=%s skipped=%s finished=%s", result.started, result.queued,
                 result.skipped, result.finished)


def _retention(services) -> None:
    erased = retention.erase_expired(services)
    if erased:
        log.info("retention erased=%s", erased)


def tick_job() -> None:
    """Hand due reminders to the outbox and send what is due."""
    _run("reminder tick", _reminders)


def broadcasts_job() -> None:
    """Put the due part of each running broadcast in the outbox."""
    _run("broadcast tick", _broadcasts)


def retention_job() -> None:
    """Erase personal data kept past RETENTION_DAYS after a case closed (idempotent)."""
    _run("retention job", _retention)


def add_tick(scheduler: BaseScheduler, seconds: float) -> None:
    """Add the tick job once: an explicit id and replace_existing, so a restart never adds a second."""
    scheduler.add_job(
        "bot.timing.scheduler:tick_job", "interval", seconds=seconds, id=JOB_ID, replace_existing=True,
        max_instances=1, coalesce=True, next_run_time=datetime.now(timezone.utc),
    )


def run_scheduler(settings) -> None:
    """Run the tick every REMINDER_TICK_SECONDS until SIGINT or SIGTERM."""
    global _services
    from bot import services as services_mod

    _services = services_mod.build(settings)
    scheduler = BlockingScheduler(timezone=timezone.utc)
    add_tick(scheduler, settings.reminder_tick_seconds)
    scheduler.add_job("bot.timing.scheduler:broadcasts_job", "interval", seconds=settings.broadcast_tick_seconds,
                      id=BROADCASTS_JOB_ID, replace_existing=True, max_instances=1, coalesce=True)
    scheduler.add_job("bot.timing.scheduler:retention_job", "interval", hours=1, id="carertext-retention",
                      replace_existing=True, max_instances=1, coalesce=True)

    def stop(signum, _frame):
        log.info("scheduler stopping on signal %s", signum)
        scheduler.shutdown(wait=False)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    log.info("scheduler started, tick every %ss", settings.reminder_tick_seconds)
    try:
        scheduler.start()
    finally:
        _services.db.engine.dispose()
        _services = None
