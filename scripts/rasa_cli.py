"""Run Rasa's command line quietly: silence sanic's DeprecationWarning noise first.

`rasa_cli.py sdk ARGS` runs the action server (rasa_sdk) the same way, refusing any call without
ACTIONS_TOKEN when that is set (rasa_sdk 3.6 has no authentication of its own).
"""

import hmac
import logging
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

# sanic 21.12 resets the DeprecationWarning filter when imported, so import it before filtering.
import sanic  # noqa: E402,F401

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", message=".*sqlalchemy.*", category=UserWarning)
logging.getLogger("tensorflow").setLevel(logging.ERROR)


def guard_action_server() -> None:
    """Make rasa_sdk's app refuse a call whose token is not ACTIONS_TOKEN, when that is set."""
    from rasa_sdk import endpoint
    from sanic import response

    token, make_app = os.environ.get("ACTIONS_TOKEN", ""), endpoint.create_app
    if not token:
        return

    def create_app(*args, **kwargs):
        app = make_app(*args, **kwargs)

        @app.middleware("request")
        async def _token(request):
            if request.path != "/health" and not hmac.compare_digest(request.args.get("token", ""), token):
                return response.json({"error": "a token is needed"}, status=401)

        return app

    endpoint.create_app = create_app


if __name__ == "__main__":
    if sys.argv[1:2] == ["sdk"]:
        sys.path.insert(0, os.getcwd())  # actions are imported from the working directory
        from rasa_sdk.__main__ import main as sdk_main

        guard_action_server()
        sys.argv = ["rasa_sdk"] + sys.argv[2:]
        sys.exit(sdk_main())
    from rasa.__main__ import main

    sys.argv[0] = "rasa"
    sys.exit(main())
