#!/usr/bin/env bash
# The image's roles: one container per role, all from the same image.
set -euo pipefail
cd /app
role="${1:-web}"; shift || true
case "$role" in
  web)        exec /app/.venv/bin/python -m bot.cli web "$@" ;;
  worker)     exec /app/.venv/bin/python -m bot.cli worker "$@" ;;
  scheduler)  exec /app/.venv/bin/python -m bot.cli scheduler "$@" ;;
  init-db)    exec /app/.venv/bin/python -m bot.cli init-db "$@" ;;
  create-admin) exec /app/.venv/bin/python -m bot.cli create-admin "$@" ;;
  whatsapp-buttons) exec /app/.venv/bin/python -m bot.cli whatsapp-buttons "$@" ;;
  rasa)       RASA_VENV=/app/.venv-rasa exec scripts/run_rasa.sh "$@" ;;
  actions)    RASA_VENV=/app/.venv-rasa exec scripts/run_actions.sh "$@" ;;
  *) echo "unknown role: $role (web, worker, scheduler, rasa, actions, init-db, create-admin, whatsapp-buttons)" >&2; exit 64 ;;
esac
