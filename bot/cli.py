"""Commands: init-db, web, worker, scheduler, standin, run (everything), create-admin."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import threading

from bot.config import ROOT, Settings
from bot.logs import configure_logging


def init_db(settings: Settings) -> None:
    """Create or migrate the database."""
    from bot.migrate import upgrade

    upgrade(settings.database_url)
    print("database ready")


def web(settings: Settings, port: int, workers: int) -> None:
    """Serve the gateway with gunicorn (the inbox and outbox workers run in each process)."""
    args = [sys.executable, "-m", "gunicorn", "--bind", f"0.0.0.0:{port}", "--workers", str(workers),
            "--threads", "8", "--access-logfile", "-", "--access-logformat", '%(m)s %(U)s %(s)s %(M)sms',
            "webhooks.wsgi:app"]
    os.execv(sys.executable, args)


def worker(settings: Settings) -> None:
    """Run inbox and outbox workers without the web app (scale-out)."""
    from bot import services as services_mod
    from bot.worker import Dispatcher

    services = services_mod.build(settings)
    dispatcher = Dispatcher(services, threads=settings.worker_threads, poll_seconds=0.5).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    dispatcher.stop()


def scheduler(settings: Settings) -> None:
    """Run the one scheduler process (reminders, retention)."""
    from bot.scheduler import run_scheduler

    run_scheduler(settings)


def create_admin(settings: Settings, email: str) -> None:
    from bot import services as services_mod
    from bot.staff import create_admin as make

    password = os.environ.get("ADMIN_PASSWORD") or getpass.getpass("Password: ")
    make(services_mod.build(settings), email, password)
    print("admin created")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="carertext", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db")
    p_web = sub.add_parser("web")
    p_web.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    p_web.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    sub.add_parser("worker")
    sub.add_parser("scheduler")
    p_admin = sub.add_parser("create-admin")
    p_admin.add_argument("email")
    sub.add_parser("run")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    logging.getLogger("carertext").debug("command %s", args.command)
    if args.command == "init-db":
        init_db(settings)
    elif args.command == "web":
        web(settings, args.port, args.workers)
    elif args.command == "worker":
        worker(settings)
    elif args.command == "scheduler":
        scheduler(settings)
    elif args.command == "create-admin":
        create_admin(settings, args.email)
    elif args.command == "run":
        from bot.launcher import run_all

        run_all(ROOT)


if __name__ == "__main__":
    main()
