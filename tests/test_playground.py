#!/usr/bin/env python3
"""The playground notebook run headless (marimo export html executes every cell): on a small int8 file of
its own (resnet8-ptq on 50 calibration images, with its --json report and weights) and a what-if run at
start (--what-if-now, 200 test images, 5 calibration images per class), the page holds the model summary,
the ten layers, the layer view's numbers and the what-if accuracy; a damaged model file gives the app's
one-sentence message, not a Python traceback."""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cli_check import expect, finish
from cli_check import run as run_tool

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "playground" / "quantization.py"
LAYERS = ["stem.conv", "stack1.conv1", "stack1.conv2", "stack2.conv1", "stack2.conv2", "stack2.shortcut",
          "stack3.conv1", "stack3.conv2", "stack3.shortcut", "fc"]  # fmt: skip


def export(folder, model, *extra):
    """The notebook executed and exported as HTML, with these app arguments."""
    out = folder / "page.html"
    cmd = [sys.executable, "-m", "marimo", "export", "html", str(NOTEBOOK), "-o", str(out), "--",
           "--folder", str(folder), "--model", str(model), *extra]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=REPO)
    return r, out.read_text() if out.exists() else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ptq", required=True, type=Path)
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--model", required=True, type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="resnet8-playground-"))
    try:
        model = work / "small.pt"
        r = run_tool(args.ptq, "--model", args.model, "--data", args.data, "--threads", "2", "--calib-per-class", "5",
                     "--no-eval", "-o", model, "--json", work / "small.json", "--json-weights")  # fmt: skip
        expect("resnet8-ptq --json --json-weights writes the file and its report", r.returncode == 0, r.stderr)
        r, page = export(work, model, "--what-if-now", "--test-images", "200", "--calib-per-class", "5")
        expect("marimo export html runs every cell", r.returncode == 0 and page, r.stderr[-3000:])
        expect("the model summary: an int8 file, its scheme and calibration",
               "int8 TorchScript" in page and "w7a8" in page and "5 images per class" in page)  # fmt: skip
        missing = [name for name in LAYERS if name not in page]
        expect("the ten layers are offered", not missing, missing)
        expect("the layer view's quantization error", "SQNR" in page and "dB for the layer" in page)
        found = re.search(r"what-if accuracy: (\d+\.\d\d) %", page)
        expect("the what-if run's accuracy", found is not None and 10 <= float(found.group(1)) <= 100,
               found.group(0) if found else page[-2000:])  # fmt: skip
        expect("no Python traceback", "Traceback" not in page)

        damaged = work / "damaged.pt"
        damaged.write_bytes(b"PK\x03\x04 not a zip")
        r, page = export(work, damaged)
        expect("a damaged file: the app's one sentence, no traceback",
               "not a readable TorchScript file" in page and "Traceback" not in page, r.stderr[-2000:])  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
