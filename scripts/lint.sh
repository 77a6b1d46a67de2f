#!/usr/bin/env bash
# The lint gate, run first by scripts/test.sh (so by CI). Every problem is printed as FILE:LINE: what.
#   1. clang-format 14: the C++ style in .clang-format, on every C++ file (fix: clang-format-14 -i FILE);
#   2. ruff check and ruff format --check: the Python in scripts/, tests/ and playground/ (ruff.toml;
#      fix: .venv/bin/ruff format FILE);
#   3. the folder order (scripts/check_layers.py): every include in include/resnet8/ and src/ looks down;
#   4. clang-tidy 14: the checks in .clang-tidy on src/ and apps/, compiled as the build compiles them
#      (its compile_commands.json, without gcc's precompiled header), two files at a time. About 6 min on
#      the 2-core machines: every check walks LibTorch's headers in every file.
# Needs what scripts/setup.sh installs (Debian clang-format-14 and clang-tidy-14, ruff from PyPI into .venv/)
# and the build it configures. Exit 1 if anything is found.
#   scripts/lint.sh             # everything
#   scripts/lint.sh --no-tidy   # the fast checks only (seconds)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
tidy=1
[[ ${1:-} == --no-tidy ]] && tidy=0

for tool in clang-format-14 clang-tidy-14; do
  command -v $tool >/dev/null || { echo "lint.sh: error: $tool not found; scripts/setup.sh installs it" >&2; exit 1; }
done
"$PYTHON" -m ruff --version >/dev/null 2>&1 || { echo "lint.sh: error: ruff not found in $PYTHON; scripts/setup.sh installs it" >&2; exit 1; }
ruff() { "$PYTHON" -m ruff "$@"; }

# Tracked files and new ones git does not ignore, so that a change is linted before it is committed.
files() { git ls-files --cached --others --exclude-standard -- "$@" | while read -r f; do [[ -f $f ]] && echo "$f"; done; }
mapfile -t cpp < <(files '*.cpp' '*.h' '*.c')
mapfile -t py < <(files 'scripts/*.py' 'tests/*.py' 'playground/*.py')
status=0

printf '== clang-format (%d files)\n' "${#cpp[@]}"
if ! clang-format-14 --dry-run --Werror "${cpp[@]}" 2>/tmp/lint-format.$$; then
  grep -E ': (error|warning):' /tmp/lint-format.$$ || cat /tmp/lint-format.$$
  status=1
fi
rm -f /tmp/lint-format.$$

printf '== ruff (%d files)\n' "${#py[@]}"
ruff check --quiet --output-format concise "${py[@]}" || status=1
ruff format --check --quiet "${py[@]}" || status=1  # prints each file and line it would change

printf '== folder order (scripts/check_layers.py)\n'
"$PYTHON" scripts/check_layers.py || status=1

if ((tidy)); then
  db=$BUILD_DIR/compile_commands.json
  [[ -f $db ]] || { echo "lint.sh: error: $db not found; run scripts/setup.sh (it configures the build) first" >&2; exit 1; }
  # clang cannot read gcc's precompiled header: the same commands without it (each file's own includes).
  tidy_db=$BUILD_DIR/lint
  mkdir -p "$tidy_db"
  "$PYTHON" - "$db" "$tidy_db/compile_commands.json" <<'EOF'
import json, shlex, sys
entries = []
for e in json.load(open(sys.argv[1])):
    if e["file"].endswith(".hxx.cxx"):
        continue
    args, out = shlex.split(e["command"]), []
    i = 0
    while i < len(args):
        if args[i] == "-include" and args[i + 1].endswith("cmake_pch.hxx"):
            i += 2
            continue
        if args[i] != "-Winvalid-pch":
            out.append(args[i])
        i += 1
    entries.append({**e, "command": shlex.join(out)})
json.dump(entries, open(sys.argv[2], "w"), indent=1)
EOF
  mapfile -t units < <(printf '%s\n' "${cpp[@]}" | grep -E '^(src|apps)/.*\.cpp$' |
    while read -r f; do grep -q "\"file\": \"$PWD/$f\"" "$tidy_db/compile_commands.json" && echo "$f"; done)
  printf '== clang-tidy (%d files, 2 at a time)\n' "${#units[@]}"
  log=$(mktemp)
  printf '%s\n' "${units[@]}" |
    xargs -P 2 -I{} sh -c 'clang-tidy-14 --quiet -p "$1" "$2" 2>/dev/null || echo "$2:1: error: clang-tidy found problems or failed"' \
      _ "$tidy_db" {} >"$log" || true
  if grep -qE ': error:' "$log"; then
    grep -E ': (error|warning):' "$log" | sort -u
    status=1
  fi
  rm -f "$log"
fi

((status == 0)) && echo "lint: clean"
exit $status
