"""Run the stand-in: python -m standin --port 4010 (TWILIO_AUTH_TOKEN, TWILIO_ACCOUNT_SID from env)."""

from __future__ import annotations

import argparse
import logging
import os

from werkzeug.serving import make_server

from standin.app import create_standin
from standin.server import PathOnlyHandler


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m standin",
                                     description="Local stand-in for Twilio's Messages and Content APIs")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4010)
    parser.add_argument("--spec", default=None, help="path to twilio_api_v2010.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    token = os.environ.get("TWILIO_AUTH_TOKEN", "")
    sid = os.environ.get("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000")
    if not token:
        parser.error("TWILIO_AUTH_TOKEN must be set: callbacks are signed with it")
    app = create_standin(token, sid, spec_path=args.spec)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=PathOnlyHandler)
    logging.getLogger("standin").info("Twilio stand-in on http://%s:%s", args.host, server.server_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
