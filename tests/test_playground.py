#!/usr/bin/env python3
"""The playground notebook run headless (marimo export html executes every cell): on a small int8 file of
its own (resnet8-ptq on 50 calibration images, with its --json report and weights) and a what-if run at
start (--what-if-now, 200 test images, 5 calibration images per class), the page holds the model summary,
the ten layers, the layer view's numbers and the what-if accuracy, and the what-if controls start from the
file's own settings; a damaged model file gives the app's one-sentence message, not a Python traceback.
Hostile files each give one sentence from playground/tools.py (list or string fields in a report, nesting
100,000 deep, bad UTF-8, a .tflite with no subgraph or a shape its buffer does not hold, a zip whose metadata
member would unpack to 50 MB), and a report's strings cannot put a link into the plan's picture."""

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
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


def tools():
    sys.path.insert(0, str(REPO / "playground"))
    import tools as t

    return t


def one_sentence(what, call, fragment):
    t = tools()
    try:
        call()
    except t.PlaygroundError as e:
        expect(f"{what}: one sentence", fragment in str(e) and "\n" not in str(e), str(e))
        return
    except Exception as e:  # anything else is what the app would show as a traceback
        expect(f"{what}: one sentence", False, f"{type(e).__name__}: {e}")
        return
    expect(f"{what}: one sentence", False, "no error at all")


def hostile_reports(work, model):
    """Each hostile file beside a model gives one sentence (PlaygroundError), never another exception."""
    t = tools()
    good = json.loads((work / "small.json").read_text())
    cases = {
        "a plan that is a string": {**good, "ptq": {**good["ptq"], "plan": "x"}},
        "layers that are strings": {**good, "ptq": {**good["ptq"], "plan": {**good["ptq"]["plan"], "layers": ["a"]}}},
        "weights that are a list": {**good, "weights": [1, 2]},
    }
    for what, report in cases.items():
        (work / "hostile.json").write_text(json.dumps(report))
        shutil.copy(model, work / "hostile.pt")
        one_sentence(f"a report with {what}", lambda: t.report_for(work / "hostile.pt"), "not a resnet8-ptq report")
    (work / "hostile.json").write_text("[" * 100000 + "]" * 100000)
    one_sentence("a report nested 100,000 deep", lambda: t.report_for(work / "hostile.pt"), "not valid JSON")
    (work / "hostile.json").write_bytes(b'{"ptq": "\xff\xfe"}')
    one_sentence("a report of bad UTF-8", lambda: t.report_for(work / "hostile.pt"), "not valid JSON")
    bomb = work / "bomb.pt"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bomb/extra/resnet8_ptq.json", b" " * 50_000_000)
    expect("  ... the 50 MB member came in a small zip", bomb.stat().st_size < 200_000, bomb.stat().st_size)
    one_sentence("a zip whose metadata would unpack to 50 MB", lambda: t.summary(bomb), "its metadata record is")
    tflite_cases(work, t)
    evil = {**good, "ptq": {**good["ptq"], "plan": json.loads(json.dumps(good["ptq"]["plan"]))}}
    evil["ptq"]["plan"]["graph"][1]["inputs"] = ['input" URL="javascript:alert(1)" x="']
    dot = t.plan_dot(evil["ptq"]["plan"])
    expect("a report's quotes are escaped in the Graphviz text (no attribute added)", 'URL="' not in dot, dot[:300])
    svg = t.dot_svg(dot)
    expect("a report's strings stay text in the plan's picture (no link)", "href" not in svg and "<a" not in svg)


def tflite_cases(work, t):
    s = t.tflite_schema()
    import flatbuffers

    def write(path, change):
        m = s.ModelT()
        m.version, m.buffers, m.subgraphs, m.operatorCodes = 3, [s.BufferT()], [], []
        change(m)
        b = flatbuffers.Builder(0)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        path.write_bytes(b.Output())

    write(work / "empty.tflite", lambda m: None)
    one_sentence("a .tflite with no subgraph", lambda: t.tflite_tensors(work / "empty.tflite"), "without a subgraph")

    def short(m):
        g, tensor, buf = s.SubGraphT(), s.TensorT(), s.BufferT()
        tensor.shape, tensor.type, tensor.buffer, tensor.name = [16, 3, 3, 3], s.TensorType.INT8, 1, b"w"
        buf.data = [0] * 10
        g.tensors, g.operators, g.inputs, g.outputs = [tensor], [], [], []
        m.subgraphs, m.buffers = [g], [s.BufferT(), buf]

    write(work / "short.tflite", short)
    one_sentence("a .tflite tensor whose buffer does not hold its shape",
                 lambda: t.tflite_tensors(work / "short.tflite"), "its buffer holds 10 bytes")  # fmt: skip


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
        expect("the what-if controls start from the file's settings", "the settings small.pt was made with" in page)
        found = re.search(r"what-if accuracy: (\d+\.\d\d) %", page)
        expect("the what-if run's accuracy", found is not None and 10 <= float(found.group(1)) <= 100,
               found.group(0) if found else page[-2000:])  # fmt: skip
        expect("no Python traceback", "Traceback" not in page)

        hostile_reports(work, model)
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
