"""Run Rasa's command line quietly: silence sanic's DeprecationWarning noise first.

`rasa_cli.py sdk ARGS` runs the action server (rasa_sdk) the same way.
"""

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

if __name__ == "__main__":
    if sys.argv[1:2] == ["sdk"]:
        sys.path.insert(0, os.getcwd())  # actions are imported from the working directory
        from rasa_sdk.__main__ import main as sdk_main

        sys.argv = ["rasa_sdk"] + sys.argv[2:]
        sys.exit(sdk_main())
    from rasa.__main__ import main

    sys.argv[0] = "rasa"
    sys.exit(main())
