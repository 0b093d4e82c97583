"""The production entry point: `gunicorn webhooks.wsgi:app` (the worker threads run beside the app)."""

import gc

from bot.messaging.inbox import warm_up
from bot.messaging.worker import Dispatcher
from webhooks import create_app

app = create_app()
settings = app.config["SETTINGS"]
# Everything loaded so far lives as long as the process: out of the collector's sight, a full collection
# no longer walks it in the middle of a carer's reply.
warm_up(app.config["SERVICES"])
gc.freeze()
# Workers in the web process are woken the moment a message is stored, or when a waiting one falls due:
# the poll is only a net (for work another process left), kept slow so it rarely runs during a reply.
dispatcher = Dispatcher(app.config["SERVICES"], threads=settings.worker_threads, poll_seconds=3.0).start()
