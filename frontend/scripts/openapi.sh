#!/usr/bin/env bash
# Writes the server's OpenAPI document (no server process, no database: the app
# is only constructed) and generates src/api/schema.d.ts from it.
#   scripts/openapi.sh          regenerate src/api/schema.d.ts
#   scripts/openapi.sh --check  fail when the committed types differ from the server's document
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${FACTFLOW_PYTHON:-../.venv/bin/python}"
env -u FACTFLOW_API_TOKEN "$PY" - > openapi.json <<'PY'
import json
from factflow_server import create_app
print(json.dumps(create_app().openapi(), indent=1, sort_keys=True))
PY
out=src/api/schema.d.ts
if [ "${1:-}" = "--check" ]; then
    tmp=$(mktemp --suffix .d.ts)
    trap 'rm -f "$tmp"' EXIT
    npx --no-install openapi-typescript openapi.json -o "$tmp" --silent
    if ! diff -q "$tmp" "$out" >/dev/null; then
        echo "frontend: src/api/schema.d.ts is out of date with the server's OpenAPI document;" >&2
        echo "          run frontend/scripts/openapi.sh and commit the result" >&2
        diff -u "$out" "$tmp" | head -40 >&2
        exit 1
    fi
else
    npx --no-install openapi-typescript openapi.json -o "$out" --silent
fi
