"""A gateway process for fault tests: create_app and the worker threads, served by werkzeug.

Settings come from the environment (bot.config); Rasa is the scripted fake from tests/fakes.py,
in this process, so a SIGKILL hits the gateway alone. It takes a real Rasa's time to answer, so a
burst is still being answered when the test kills the process.
"""

from __future__ import annotations

import sys
import time

from werkzeug.serving import make_server

from bot import services as services_mod
from bot.config import Settings
from bot.messaging.worker import Dispatcher
from tests.fakes import ScriptedRasa
from webhooks import create_app


class ThinkingRasa(ScriptedRasa):
    """The scripted fake, taking a little longer than the real model takes to answer."""

    def reply(self, sender, text, metadata):
        time.sleep(0.2)  # 24 answers take 2.4 s or more on 2 threads: longer than the burst takes to post
        return super().reply(sender, text, metadata)


def main(port: int) -> None:
    settings = Settings.from_env()
    services = services_mod.build(settings, rasa=ThinkingRasa())
    app = create_app(services=services)
    Dispatcher(services, threads=2, poll_seconds=0.2).start()
    server = make_server("127.0.0.1", port, app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]))
