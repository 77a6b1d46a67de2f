#!/usr/bin/env python3
"""The library's folders in their order, bottom to top, and the check that each file only includes
folders at or below its own (scripts/lint.sh runs it; docs/LIBRARY.md explains the order).

A file in include/resnet8/F/ or src/F/ may include <resnet8/G/...> (or a private "G/..." header under
src/) only when G comes no later than F in LAYERS. The umbrella header include/resnet8/resnet8.h sits
above every folder, and apps/ above that. Prints FILE:LINE: what for every include that looks up;
exit 1 if there is one."""

import re
import subprocess
import sys
from pathlib import Path

# Bottom to top. Each folder's role is in docs/LIBRARY.md.
LAYERS = ["micro", "support", "model", "data", "quant", "engine", "formats", "program", "run", "pipeline"]
RANK = {name: i for i, name in enumerate(LAYERS)}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"](?:resnet8/)?([a-z_]+)/[^>"]+[>"]')


def folder_of(path):
    parts = Path(path).parts
    if parts[:2] == ("include", "resnet8") and len(parts) > 3:
        return parts[2]
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    return None


def main():
    root = Path(__file__).resolve().parent.parent
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "include", "src"],
                           cwd=root, capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    problems = 0
    for name in files:
        folder = folder_of(name)
        if folder is None or not (root / name).is_file():
            continue
        if folder not in RANK:
            print(f"{name}:1: error: folder '{folder}' is not in the layer order (scripts/check_layers.py)")
            problems += 1
            continue
        for number, line in enumerate((root / name).read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m or m.group(1) not in RANK:
                continue
            target = m.group(1)
            if RANK[target] > RANK[folder]:
                print(f"{name}:{number}: error: {folder}/ includes {target}/, which is above it "
                      f"(order: {' < '.join(LAYERS)})")  # fmt: skip
                problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
