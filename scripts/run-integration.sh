#!/usr/bin/env bash
# Run the integration suite with Debian's Python (python3-pytest and friends
# come from apt, see scripts/deps.sh), whatever python3 is first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
py=/usr/bin/python3
[ -x "$py" ] || py=python3
mkdir -p tests/artifacts
exec "$py" -m pytest -p no:cacheprovider -q -ra tests/integration "$@"
