#!/usr/bin/env bash
# `rasa data validate` on rasa_project/: fails on errors; warnings are shown.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RASA_VENV:-$ROOT/.venv-rasa}"
export TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
cd "$ROOT/rasa_project"
set +e
out="$("$VENV/bin/python" "$ROOT/scripts/rasa_cli.py" data validate --domain domain --data data --config config.yml 2>&1)"
rc=$?
set -e
rm -rf "$ROOT/rasa_project/.rasa" "$ROOT/.rasa"
grep -E "WARNING|ERROR|UserWarning" <<<"$out" | cut -c1-200 || true
[[ $rc -eq 0 ]] || { echo "rasa data validate failed (exit $rc)"; exit $rc; }
echo "rasa data validate: no errors"
