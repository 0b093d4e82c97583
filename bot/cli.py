"""Commands: init-db, web, worker, scheduler, standin, run (everything), create-admin, broadcast, whatsapp-buttons."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import threading

from bot.config import ROOT, Settings, random_secret_key
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
    if not settings.secret_key:
        # One random key for all the workers: each making its own would sign a worker out on the next.
        os.environ["SECRET_KEY"] = random_secret_key()
    os.execv(sys.executable, args)


def worker(settings: Settings) -> None:
    """Run inbox and outbox workers without the web app (scale-out)."""
    from bot import services as services_mod
    from bot.messaging.worker import Dispatcher

    services = services_mod.build(settings)
    dispatcher = Dispatcher(services, threads=settings.worker_threads, poll_seconds=0.5).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    dispatcher.stop()


def scheduler(settings: Settings) -> None:
    """Run the one scheduler process (reminders, retention)."""
    from bot import services as services_mod
    from bot.timing.scheduler import run_scheduler

    run_scheduler(services_mod.build(settings))


def create_admin(settings: Settings, email: str) -> None:
    from bot import services as services_mod
    from bot.duty.staff import create_admin as make

    password = os.environ.get("ADMIN_PASSWORD") or getpass.getpass("Password: ")
    make(services_mod.build(settings), email, password)
    print("admin created")


def broadcast(settings: Settings, message: str, audience: str, at: str | None, send: bool) -> None:
    """Preview a broadcast and, with --send, schedule it; the scheduler sends it, paced."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.council import broadcasts
    from bot import services as services_mod
    from bot.duty import staff

    services = services_mod.build(settings)
    now = services.clock.now()
    when = None
    if at:
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            when = when.replace(tzinfo=ZoneInfo(settings.timezone))
    with services.db.session() as session:
        chosen = broadcasts.parse_audience(audience)
        found = broadcasts.preview(session, settings, now, message, chosen)
        print(f"reaches {found.carers} carers: {found.sms} by SMS ({found.sms_segments} segments, "
              f"{found.segments_each} each), {found.whatsapp} by WhatsApp ({found.whatsapp_template} by template)")
        if found.own_hours:
            last = f", the last at {found.last_hours_open:%a %d %b %H:%M}" if found.last_hours_open else ""
            print(f"{found.own_hours} gave their own hours, {found.waiting_for_hours} outside them now: "
                  f"theirs wait for the hours to open{last}")
        if not send:
            print("not sent: add --send to send it")
            return
        made = broadcasts.create(session, now, message=message, audience=chosen)
        broadcasts.schedule(session, now, made.id, when)
        staff.audit(session, now, None, "broadcast_schedule", detail=f"broadcast={made.id} via=cli")
        print(f"broadcast {made.id} scheduled for {(when or now).isoformat()}")


def whatsapp_buttons(settings: Settings) -> int:
    """Make the Twilio Content for every choice set in every language (once; run again after text changes)."""
    from bot.messaging import whatsapp_buttons as buttons
    from bot.adapters.twilio_content import ContentFailed, TwilioContent
    from bot.catalogue import default_catalogue
    from bot.timing.clock import SystemClock
    from bot.db import Database

    api = TwilioContent(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_base_url)
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            outcomes = buttons.sync(session, api, default_catalogue(), SystemClock().now(), buttons.choice_sets())
    except ContentFailed as exc:
        print(f"Twilio refused the Content API request: {exc}; nothing was stored, run the command again")
        return 1
    finally:
        db.engine.dispose()
    for o in outcomes:
        if o.status == "unfit":
            print(f"{o.language} {o.key}: numbered text only ({o.reason})")
        else:
            print(f"{o.language} {o.key}: {o.content_type} {o.content_sid} ({o.status})")
    return 0


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
    p_cast = sub.add_parser("broadcast", help="preview a broadcast; --send schedules it")
    p_cast.add_argument("--message", required=True)
    p_cast.add_argument("--audience", default="all", help='"all" or e.g. "status=in_progress,channel=sms,tag=x"')
    p_cast.add_argument("--at", help="ISO time to send (local time unless it has an offset); default now")
    p_cast.add_argument("--send", action="store_true")
    sub.add_parser("whatsapp-buttons", help="make the WhatsApp buttons for every choice set (Twilio Content API)")
    sub.add_parser("train-safeguarding", help="check the sentence model and train the risk classifier's head")
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
    elif args.command == "broadcast":
        broadcast(settings, args.message, args.audience, args.at, args.send)
    elif args.command == "whatsapp-buttons":
        sys.exit(whatsapp_buttons(settings))
    elif args.command == "train-safeguarding":
        from bot.duty.safeguarding.classifier import build

        build(settings)  # verifies the model's checksums; trains only when the corpus changed
        print(settings.safeguarding_model)
    elif args.command == "run":
        from bot.launcher import run_all

        run_all(ROOT)


if __name__ == "__main__":
    main()
