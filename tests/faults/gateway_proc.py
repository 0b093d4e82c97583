"""A gateway process for fault tests: create_app and the worker threads, served by werkzeug.

Settings come from the environment (bot.config); Rasa is the scripted fake from tests/fakes.py,
in this process, so a SIGKILL hits the gateway alone.
"""

from __future__ import annotations

import sys

from werkzeug.serving import make_server

from bot import services as services_mod
from bot.config import Settings
from bot.worker import Dispatcher
from tests.fakes import ScriptedRasa
from webhooks import create_app


def main(port: int) -> None:
    settings = Settings.from_env()
    services = services_mod.build(settings, rasa=ScriptedRasa())
    app = create_app(services=services)
    Dispatcher(services, threads=2, poll_seconds=0.2).start()
    server = make_server("127.0.0.1", port, app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]))
