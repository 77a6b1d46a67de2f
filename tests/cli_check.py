"""Helpers for the command-line tests: run a tool, check exit code and its one error line."""

import argparse
import subprocess
from pathlib import Path

failures = []


def arguments(*tools):
    """Parse --data, --model and one --<tool> path per name given (e.g. "eval", "ptq")."""
    ap = argparse.ArgumentParser()
    for flag in (*tools, "data", "model"):
        ap.add_argument(f"--{flag}", required=True, type=Path)
    return ap.parse_args()


def run(tool, *args, timeout=600, cwd=None):
    return subprocess.run([str(tool), *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def expect(name, cond, detail=""):
    print(f"{'ok  ' if cond else 'FAIL'} {name}", flush=True)
    if not cond:
        failures.append(name)
        if detail:
            print("     " + str(detail).replace("\n", "\n     "))


def expect_error(name, result, code, *fragments):
    err = result.stderr
    expect(
        name,
        result.returncode == code and "error:" in err and all(f in err for f in fragments),
        f"exit {result.returncode} (want {code}), stderr:\n{err}",
    )


def finish():
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0
