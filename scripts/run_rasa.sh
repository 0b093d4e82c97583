#!/usr/bin/env bash
# Start the Rasa server (REST channel + HTTP API) on ${RASA_PORT:-5005} with the current model.
# RASA_LOCK_STORE=redis (with REDIS_HOST, REDIS_PORT) uses endpoints.redis.yml instead of endpoints.yml.
# It listens on RASA_INTERFACE (loopback unless set); RASA_TOKEN guards its HTTP API, ACTIONS_TOKEN the action server.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RASA_VENV:-$ROOT/.venv-rasa}"
MODEL="$("$ROOT/scripts/train_rasa.sh")"
mkdir -p "$ROOT/instance"
export TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 LOG_LEVEL="${RASA_LOG_LEVEL:-WARNING}"
export RASA_TRACKER_DIALECT="${RASA_TRACKER_DIALECT:-sqlite}"
if [[ "$RASA_TRACKER_DIALECT" == "sqlite" ]]; then
  export RASA_TRACKER_DB="${RASA_TRACKER_DB:-$ROOT/instance/rasa_tracker.db}"
  export RASA_TRACKER_URL="${RASA_TRACKER_URL:-sqlite:///$RASA_TRACKER_DB}"
else
  : "${RASA_TRACKER_HOST:?set RASA_TRACKER_HOST}" "${RASA_TRACKER_DB:?set RASA_TRACKER_DB}"
  if [[ -z "${RASA_TRACKER_URL:-}" ]]; then
    ENC_PW="$(RASA_TRACKER_PASSWORD="${RASA_TRACKER_PASSWORD:-}" "$VENV/bin/python" -c \
      'import os, urllib.parse; print(urllib.parse.quote(os.environ["RASA_TRACKER_PASSWORD"], safe=""))')"
    export RASA_TRACKER_URL="${RASA_TRACKER_DIALECT}://${RASA_TRACKER_USER:-}${ENC_PW:+:$ENC_PW}${RASA_TRACKER_USER:+@}${RASA_TRACKER_HOST}:${RASA_TRACKER_PORT:-5432}/${RASA_TRACKER_DB}"
  fi
fi
export ACTIONS_URL="${ACTIONS_URL:-http://127.0.0.1:${ACTIONS_PORT:-5055}/webhook}"
export ACTIONS_TOKEN="${ACTIONS_TOKEN:-}"
AUTH=()
if [[ -n "${RASA_TOKEN:-}" ]]; then AUTH=(--auth-token "$RASA_TOKEN"); fi
ENDPOINTS="$ROOT/rasa_project/endpoints.yml"
if [[ "${RASA_LOCK_STORE:-memory}" == "redis" ]]; then
  export REDIS_HOST="${REDIS_HOST:-127.0.0.1}" REDIS_PORT="${REDIS_PORT:-6379}"
  ENDPOINTS="$ROOT/rasa_project/endpoints.redis.yml"
fi
cd "$ROOT/rasa_project"
exec "$VENV/bin/python" "$ROOT/scripts/rasa_cli.py" run --enable-api "${AUTH[@]}" \
  --interface "${RASA_INTERFACE:-127.0.0.1}" --port "${RASA_PORT:-5005}" --model "$MODEL" \
  --endpoints "$ENDPOINTS" --credentials credentials.yml "$@"
