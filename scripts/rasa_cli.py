"""Run Rasa's command line quietly: silence sanic's DeprecationWarning noise first."""

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

from rasa.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.argv[0] = "rasa"
    sys.exit(main())
