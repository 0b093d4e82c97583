#!/usr/bin/env bash
# Create .venv-rasa (Python 3.10, Rasa 3.6.21) if it is missing; a stamp file makes a second run instant.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RASA_VENV:-$ROOT/.venv-rasa}"
STAMP="$VENV/.carertext-stamp"
REQS="rasa==3.6.21 pyparsing<3.3 pytest<9"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$REQS" ]]; then
  exit 0
fi

find_python() {
  if python3.10 -c '' >/dev/null 2>&1; then command -v python3.10; return; fi
  if command -v pyenv >/dev/null 2>&1; then
    local p; p="$(pyenv prefix 3.10.13 2>/dev/null || true)"
    if [[ -n "$p" && -x "$p/bin/python3.10" ]]; then echo "$p/bin/python3.10"; return; fi
  fi
  local c
  for c in /root/.pyenv/versions/3.10*/bin/python3.10 "$HOME"/.pyenv/versions/3.10*/bin/python3.10; do
    if [[ -x "$c" ]]; then echo "$c"; return; fi
  done
  return 1
}

if [[ ! -x "$VENV/bin/python" ]]; then
  PY="$(find_python)" || { echo "rasa_env: Python 3.10 not found (Rasa 3.6 needs >=3.8,<3.11)" >&2; exit 1; }
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check rasa==3.6.21 'pyparsing<3.3' 'pytest<9'
echo "$REQS" > "$STAMP"
