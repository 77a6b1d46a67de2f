#!/usr/bin/env bash
# The quantization playground (playground/quantization.py, a marimo app), served on 127.0.0.1:
#   scripts/playground.sh                         # marimo run: the app (its code read-only)
#   scripts/playground.sh --edit                  # marimo edit: the notebook, editable
#   scripts/playground.sh -- --folder DIR         # arguments for the app: --folder DIR, --model FILE, ...
# First sets up what is missing (scripts/setup.sh: packages, the build, CIFAR-10, the fp32 export; quick
# when all is there), Debian's graphviz (the graph view) and the app's Python packages
# (playground/requirements.txt, into .venv/). Stop it with Ctrl-C.
# The server answers on 127.0.0.1 only, and only to the URL it prints: a random access token (marimo's
# session authentication, given on stdin so that no other local user reads it from the process list) keeps
# the other users of this machine from driving the app, which runs the tools and writes files as you.
# Environment: RESNET8_PLAYGROUND_PORT (default 2718), RESNET8_PLAYGROUND_NO_TOKEN=1 (no token: only on a
# machine no one else logs into).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
mode=run
if [[ ${1:-} == --edit ]]; then mode=edit; shift; fi
if [[ ${1:-} == -- ]]; then shift; elif [[ $# -gt 0 ]]; then
  echo "playground.sh: error: unknown argument '$1'; expected --edit, then -- and the app's arguments" >&2
  exit 2
fi
scripts/setup.sh
printf '\n== the playground\n'
install_packages graphviz
"$PYTHON" -c 'import marimo, altair, pandas' 2>/dev/null ||
  "$PYTHON" -m pip install -q --disable-pip-version-check -r playground/requirements.txt
port=${RESNET8_PLAYGROUND_PORT:-2718}
if [[ ${RESNET8_PLAYGROUND_NO_TOKEN:-} == 1 ]]; then
  echo "serving the playground on http://127.0.0.1:$port/ without a token (marimo $mode; Ctrl-C stops it)"
  exec "$PYTHON" -m marimo "$mode" playground/quantization.py --host 127.0.0.1 --port "$port" --headless --no-token \
    -- "$@"
fi
token=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))')
echo "serving the playground (marimo $mode; Ctrl-C stops it); open:"
echo "  http://127.0.0.1:$port/?access_token=$token"
exec "$PYTHON" -m marimo "$mode" playground/quantization.py --host 127.0.0.1 --port "$port" --headless \
  --token --token-password-file - -- "$@" <<<"$token"
