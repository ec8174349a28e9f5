#!/usr/bin/env bash
# Starts approvald in demo mode with the defaults of a fresh checkout
# (127.0.0.1:8080, ./data, workflows/, config/org.yaml), called by `make run`.
#   ./scripts/run-demo.sh [BUILD_DIR]      (default: build)
# Demo mode gives every person of config/org.yaml a login (username = person
# id) with a known password, so it refuses to listen anywhere but loopback.
# Stop it with Ctrl-C: the daemon drains and exits cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"
BIN="$BUILD_DIR/approvald"
LISTEN="${APPROVALD_LISTEN:-127.0.0.1:8080}"
DATA_DIR="${APPROVALD_DATA_DIR:-./data}"
if [[ ! -x "$BIN" ]]; then
  echo "run-demo: $BIN not found; build first (make build)" >&2
  exit 1
fi
# The daemon refuses demo mode off loopback too; checking here first keeps the
# login hint below from being printed for a server that will not start.
HOST="${LISTEN%:*}"
HOST="${HOST#[}"
HOST="${HOST%]}"
if [[ "$HOST" != "localhost" && "$HOST" != "::1" && ! "$HOST" =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]]; then
  echo "run-demo: demo mode sets known passwords, so it only listens on loopback" \
       "(127.0.0.1, ::1, localhost); refusing listen=$LISTEN" >&2
  exit 2
fi
echo "approvald demo"
echo "  URL:       http://$LISTEN/   (API: http://$LISTEN/api/v1, spec: /api/v1/openapi.json)"
echo "  data:      $DATA_DIR"
echo "  logins:    any person id from config/org.yaml, e.g. zhang_min (clerk),"
echo "             lin_xiaoyan (department head), zheng_li (finance), qian_weidong (auditor), admin"
echo "  password:  approvald-demo"
echo "  try:       curl -s -X POST http://$LISTEN/api/v1/auth/login \\"
echo "               -d '{\"username\":\"zhang_min\",\"password\":\"approvald-demo\"}'"
echo
exec "$BIN" serve --listen "$LISTEN" --data-dir "$DATA_DIR" --demo
