"""The production entry point: `gunicorn webhooks.wsgi:app` (the worker threads run beside the app)."""

from bot.worker import Dispatcher
from webhooks import create_app

app = create_app()
settings = app.config["SETTINGS"]
# Workers in the web process are woken the moment a message is stored: no polling on the reply path.
dispatcher = Dispatcher(app.config["SERVICES"], threads=settings.worker_threads).start()
