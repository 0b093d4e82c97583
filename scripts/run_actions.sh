#!/usr/bin/env bash
# Start the Rasa action server (rasa_project/actions) on ${ACTIONS_PORT:-5055}, on ACTIONS_INTERFACE
# (loopback unless set); with ACTIONS_TOKEN set it answers only requests that carry it (scripts/rasa_cli.py).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/rasa_env.sh"
VENV="${RASA_VENV:-$ROOT/.venv-rasa}"
export TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
export SANIC_HOST="${ACTIONS_INTERFACE:-127.0.0.1}"
cd "$ROOT/rasa_project"
exec "$VENV/bin/python" "$ROOT/scripts/rasa_cli.py" sdk \
  --actions actions --port "${ACTIONS_PORT:-5055}" "$@"
