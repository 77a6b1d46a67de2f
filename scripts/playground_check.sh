#!/usr/bin/env bash
# The playground in a real browser: starts `marimo run` on 127.0.0.1 with a small int8 file of its own
# (resnet8-ptq on 50 calibration images, with its --json report and weights), opens the page in Debian's
# headless Chromium through Playwright (tests/playground_browser.py), saves the rendered DOM and a
# screenshot into build/playground/check/, checks that the widgets and a histogram are there, writes a real
# file at 6-bit activations from the What-if controls and finds it in the model picker, and stops the
# server. The server runs with an access token, as scripts/playground.sh runs it: the page without the
# token must not serve the app. Every wait is bounded (the server's start: 60 s; the page: 120 s; the write:
# 300 s). Installs chromium and graphviz (Debian) and playwright (PyPI, into .venv/; it uses Debian's
# Chromium, downloads no browser). Needs scripts/setup.sh's build. About two minutes once installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
install_packages chromium graphviz
"$PYTHON" -c 'import marimo, altair, pandas' 2>/dev/null ||
  "$PYTHON" -m pip install -q --disable-pip-version-check -r playground/requirements.txt
"$PYTHON" -c 'import playwright' 2>/dev/null || "$PYTHON" -m pip install -q --disable-pip-version-check playwright
[[ -x $BUILD_DIR/resnet8-ptq ]] || { echo "playground_check.sh: error: $BUILD_DIR/resnet8-ptq not found; run scripts/setup.sh first" >&2; exit 1; }

out=$PWD/$BUILD_DIR/playground/check
rm -rf "$out"
mkdir -p "$out/models"
"$BUILD_DIR/resnet8-ptq" --threads 2 --calib-per-class 5 --no-eval -o "$out/models/check.pt" \
  --json "$out/models/check.json" --json-weights >/dev/null
port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))')
"$PYTHON" -m marimo run playground/quantization.py --host 127.0.0.1 --port "$port" --headless --token \
  --token-password-file - -- --folder "$out/models" --model "$out/models/check.pt" --calib-per-class 2 \
  >"$out/server.log" 2>&1 <<<"$token" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
# Any HTTP answer counts (without the token the server answers, but not with the app).
answers() {
  "$PYTHON" -c '
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=5)
except urllib.error.HTTPError:
    pass' "$1" 2>/dev/null
}
for _ in $(seq 60); do
  answers "http://127.0.0.1:$port/" && break
  kill -0 $server 2>/dev/null || { echo "playground_check.sh: the server stopped:" >&2; cat "$out/server.log" >&2; exit 1; }
  sleep 1
done
answers "http://127.0.0.1:$port/" || { echo "playground_check.sh: no answer on port $port in 60 s" >&2; exit 1; }
timeout 600 "$PYTHON" tests/playground_browser.py --url "http://127.0.0.1:$port/" --token "$token" --out "$out" \
  --write-timeout 240
if grep -q -E 'Traceback|Virtual file not found' "$out/server.log"; then
  echo "playground_check.sh: the server's log holds a traceback (build/playground/check/server.log)" >&2
  exit 1
fi
