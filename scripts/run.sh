#!/usr/bin/env bash
# The main job: set up (idempotent), then start the kiosk service (API + UI, capture on a camera if
# present, else on the demo replay source). Extra arguments go to `skin-kiosk serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if .venv/bin/python -c 'import edge.api.server' 2>/dev/null; then
  exec .venv/bin/skin-kiosk serve "$@"
fi
# Before the service exists: analyse the demo photo and print the seed JSON.
exec .venv/bin/skin-kiosk analyze data/demo/astronaut.jpg --pretty "$@"
