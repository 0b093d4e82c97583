"""The one scheduler process: APScheduler only triggers the jobs; what is due lives in our tables."""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import FrameType
from typing import Callable, Protocol

from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from bot.db import Database

log = logging.getLogger("carertext.scheduler")

REMINDERS_JOB_ID = "carertext-reminders-tick"
BROADCASTS_JOB_ID = "carertext-broadcasts-tick"
RETENTION_JOB_ID = "carertext-retention"


@dataclass(frozen=True)
class Job:
    """One job of the scheduler: an explicit id, how often it runs, and the work (services.build makes them)."""

    id: str
    every: timedelta
    work: Callable[[], object]
    at_start: bool = False  # run once as soon as the scheduler starts, not only after the first interval


# The jobs of the scheduler running in this process, by id: APScheduler is given run_job and an id, so a
# job is an importable function whatever its work.
_jobs: dict[str, Job] = {}


def run_job(job_id: str) -> None:
    """Run one job of this process's scheduler; a bad moment is logged and the next run tries again."""
    job = _jobs.get(job_id)
    if job is None:
        return
    try:
        job.work()
    except Exception:  # the database may be restarting: nothing is lost, the work is still due
        log.exception("%s failed", job_id)


def add_job(scheduler: BaseScheduler, job: Job) -> None:
    """Add a job once: an explicit id and replace_existing, so a restart never adds a second."""
    first = {"next_run_time": datetime.now(timezone.utc)} if job.at_start else {}
    scheduler.add_job("bot.timing.scheduler:run_job", "interval", args=[job.id], id=job.id,
                      seconds=job.every.total_seconds(), replace_existing=True, max_instances=1, coalesce=True,
                      **first)


class Scheduled(Protocol):
    """What the scheduler process needs of the services."""

    @property
    def db(self) -> Database: ...

    @property
    def jobs(self) -> list[Job]: ...


def run_scheduler(services: Scheduled) -> None:
    """Run the services' jobs until SIGINT or SIGTERM."""
    scheduler = BlockingScheduler(timezone=timezone.utc)
    _jobs.update({job.id: job for job in services.jobs})
    for job in services.jobs:
        add_job(scheduler, job)

    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        # Ctrl-C reaches the process twice (the terminal's, then the launcher's stop), the second often inside
        # the first's handler: only the first stops the scheduler.
        if stopping:
            return
        stopping.append(signum)
        log.info("scheduler stopping on signal %s", signum)
        try:
            scheduler.shutdown(wait=False)
        except SchedulerNotRunningError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    log.info("scheduler started, jobs %s", ", ".join(f"{job.id} every {job.every}" for job in services.jobs))
    try:
        scheduler.start()
    finally:
        services.db.engine.dispose()
        _jobs.clear()
