#!/usr/bin/env bash
# Train the Rasa model only when rasa_project/ changed; print the model path.
# The model is .cache/rasa-models/<hash of the project files>.tar.gz, reused when it exists.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/rasa_env.sh"
VENV="${RASA_VENV:-$ROOT/.venv-rasa}"
PROJECT="$ROOT/rasa_project"
MODELS="$ROOT/.cache/rasa-models"
mkdir -p "$MODELS"

HASH="$(cd "$PROJECT" && find . -type f \
  -not -path './models/*' -not -path './.rasa/*' -not -path '*/__pycache__/*' -not -path './tests/*' \
  -not -name '*.pyc' -not -name '*.db' -not -name 'endpoints*.yml' -not -name 'credentials.yml' \
  | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)"
MODEL="$MODELS/$HASH.tar.gz"

if [[ ! -f "$MODEL" ]]; then
  export TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
  (cd "$PROJECT" && "$VENV/bin/python" "$ROOT/scripts/rasa_cli.py" train --quiet \
     --config config.yml --domain domain --data data \
     --out "$MODELS" --fixed-model-name "$HASH" >&2)
fi
echo "$MODEL"
