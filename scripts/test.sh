#!/usr/bin/env bash
# The test suite: set up (idempotent), make sure the system packages the tests use are present,
# then pytest. Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -k detector).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/system_deps.sh
exec .venv/bin/python -m pytest "$@"
