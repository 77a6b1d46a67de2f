#!/usr/bin/env python3
"""docs/TOOLS.md and the tools agree: every flag in a tool's section of docs/TOOLS.md (the first column of its
tables) is in that tool's --help, and every flag its --help lists is in its section."""

import argparse
import re
import subprocess
import sys
from pathlib import Path

from cli_check import expect, finish

DOCS = Path(__file__).resolve().parent.parent / "docs" / "TOOLS.md"
TOOLS = ("eval", "ptq", "micro", "bench", "analyze")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def documented(tool):
    """The long flags in the first column of the tables under '## `resnet8-TOOL`', up to the next '## '."""
    text = DOCS.read_text()
    start = text.index(f"## `resnet8-{tool}`")
    end = text.find("\n## ", start + 1)
    flags = set()
    for line in text[start : end if end > 0 else None].splitlines():
        cells = line.split("|")
        if line.startswith("|") and len(cells) > 2 and not set(cells[1].strip()) <= {"-"}:
            flags |= set(FLAG.findall(cells[1]))
    return flags


def in_help(exe):
    r = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    options = [line.strip() for line in r.stdout.splitlines() if line.strip().startswith("-")]
    return {FLAG.findall(line)[0] for line in options if FLAG.findall(line)}


def main():
    ap = argparse.ArgumentParser()
    for tool in TOOLS:
        ap.add_argument(f"--{tool}", required=True, type=Path)
    args = ap.parse_args()
    for tool in TOOLS:
        docs, help_ = documented(tool), in_help(getattr(args, tool))
        expect(f"resnet8-{tool}: every flag in docs/TOOLS.md is in --help", docs <= help_, sorted(docs - help_))
        expect(f"resnet8-{tool}: every flag of --help is in docs/TOOLS.md", help_ <= docs, sorted(help_ - docs))
    return finish()


if __name__ == "__main__":
    sys.exit(main())
