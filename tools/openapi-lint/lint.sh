#!/usr/bin/env bash
# Lints api/openapi.json with the pinned Redocly CLI. Exit 77 (ctest: skipped)
# when node or npm is missing.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "openapi_lint: node/npm not installed; skipping"
  exit 77
fi
if [[ ! -x node_modules/.bin/redocly ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node_modules/.bin/redocly lint ../../api/openapi.json --config redocly.yaml
