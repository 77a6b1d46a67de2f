#!/usr/bin/env python3
"""TFLite from the outside: resnet8-ptq --tflite writes int8 and INT4 models that TensorFlow Lite Micro
itself (PyPI tflite-micro) and LiteRT load; resnet8-eval's .tflite path gives TFLM's int8 outputs, every
score of every image, on 1,000 test images, for our files and the MLPerf Tiny reference; bad .tflite files
are refused with one line."""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from cli_check import expect, expect_error, finish
from cli_check import run as run_tool

REPO = Path(__file__).resolve().parent.parent
IMAGES = 1000


def arguments():
    ap = argparse.ArgumentParser()
    for flag in ("ptq", "eval", "bench", "data", "model", "reference"):
        ap.add_argument(f"--{flag}", required=True, type=Path)
    return ap.parse_args()


def schema():
    sys.path.insert(0, str(Path(__import__("ai_edge_litert").__file__).parent))
    import schema_py_generated

    return schema_py_generated


def rewrite(src, dst, change):
    """dst: src unpacked with the published schema's object API, changed by `change(model)`, packed again."""
    import flatbuffers

    s = schema()
    model = s.ModelT.InitFromObj(s.Model.GetRootAsModel(src.read_bytes(), 0))
    change(model)
    b = flatbuffers.Builder(0)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    dst.write_bytes(b.Output())


def write_models(args, out):
    default, w4 = out / "q.tflite", out / "w4.tflite"
    r = run_tool(args.ptq, "--model", args.model, "--data", args.data, "--threads", "2", "-o", out / "q.pt",
                 "--tflite", default, "--calib-per-class", "10", "--no-eval")  # fmt: skip
    expect("resnet8-ptq --tflite writes the default plan", r.returncode == 0 and "TFLite int8" in r.stdout, r.stderr)
    r = run_tool(args.ptq, "--model", args.model, "--data", args.data, "--threads", "2", "-o", out / "w4.pt",
                 "--tflite", w4, "--weight-bits", "4", "--best", "--adaround-iterations", "500",
                 "--calib-per-class", "10", "--no-eval")  # fmt: skip
    expect(
        "resnet8-ptq --tflite writes a 4-bit plan with INT4 weights", r.returncode == 0 and "INT4" in r.stdout, r.stderr
    )
    if default.exists() and w4.exists():
        sizes = default.stat().st_size, w4.stat().st_size
        expect("file sizes: int8 <= 88,000 B, INT4 <= 50,000 B", sizes[0] <= 88000 and sizes[1] <= 50000, sizes)
    return default, w4


def against_tflm(args, models):
    """scripts/tflm_check.py: identical int8 outputs in resnet8-eval and TFLM, and LiteRT's accuracy."""
    report = models[-1].parent / "tflm.json"
    cmd = [sys.executable, str(REPO / "scripts" / "tflm_check.py"), "--eval", str(args.eval), "--data", str(args.data),
           "--images", str(IMAGES), "--litert", "--require-identical", "--json", str(report)]  # fmt: skip
    r = subprocess.run(cmd + [str(m) for m in models], capture_output=True, text=True, timeout=1200)
    print("     " + r.stdout.strip().replace("\n", "\n     "))
    expect(f"resnet8-eval and TFLM give identical int8 outputs on {IMAGES} of {IMAGES} images, each model",
           r.returncode == 0, r.stderr[-2000:])  # fmt: skip
    if r.returncode == 0:
        import json

        rows = json.loads(report.read_text())
        for row in rows:
            expect(f"{Path(row['model']).name}: LiteRT runs it and predicts as TFLM on >= 97 % of the images",
                   row["same_prediction_litert_tflm"] >= 0.97 * IMAGES, row)  # fmt: skip


def hostile(args, good, work):
    """Bad .tflite files: one error line, exit 1, nothing written."""

    def refuse(name, path, fragment):
        r = run_tool(args.eval, "-m", path, "--data", args.data, "--limit", "10")
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        named = len(lines) == 1 and fragment in lines[0] and str(path) in lines[0]
        expect(f"a .tflite {name}: one error line naming it, exit 1", r.returncode == 1 and named, r.stderr)

    data = good.read_bytes()
    cases = work / "hostile"
    cases.mkdir()
    (cases / "truncated.tflite").write_bytes(data[: len(data) // 2])
    refuse("cut in half", cases / "truncated.tflite", "the FlatBuffers verifier rejected")
    rng = np.random.default_rng(0)
    (cases / "garbage.tflite").write_bytes(data[:8] + rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    refuse("of garbage after the header", cases / "garbage.tflite", "not a valid TFLite flatbuffer")
    (cases / "offset.tflite").write_bytes(b"\xff\xff\xff\x7f" + data[4:])  # root table offset past the end
    refuse("whose root offset points outside the file", cases / "offset.tflite", "the FlatBuffers verifier rejected")
    s = schema()

    def short_buffer(m):
        t = next(t for t in m.subgraphs[0].tensors if t.name.endswith(b".weights"))
        m.buffers[t.buffer].data = m.buffers[t.buffer].data[:100]

    rewrite(good, cases / "short.tflite", short_buffer)
    refuse("with a tensor buffer shorter than its shape", cases / "short.tflite", "its buffer holds 100 bytes")

    def cycle(m):
        ops = m.subgraphs[0].operators
        ops[0], ops[1] = ops[1], ops[0]

    rewrite(good, cases / "cycle.tflite", cycle)
    refuse(
        "whose operators read a tensor before it is written", cases / "cycle.tflite", "before any operator writes it"
    )

    def deep(m):
        ops = m.subgraphs[0].operators
        m.subgraphs[0].operators = ops + [ops[-1]] * 300

    rewrite(good, cases / "deep.tflite", deep)
    refuse("with 316 operators", cases / "deep.tflite", "more than 1024 / 256")

    def unknown_op(m):
        m.operatorCodes[0].builtinCode = s.BuiltinOperator.DEPTHWISE_CONV_2D
        m.operatorCodes[0].deprecatedBuiltinCode = s.BuiltinOperator.DEPTHWISE_CONV_2D

    rewrite(good, cases / "depthwise.tflite", unknown_op)
    refuse("with an operator the kernels do not implement", cases / "depthwise.tflite", "builtin operator 4")

    def float_input(m):
        m.subgraphs[0].tensors[m.subgraphs[0].inputs[0]].type = s.TensorType.FLOAT32

    rewrite(good, cases / "float.tflite", float_input)
    refuse("with a float input", cases / "float.tflite", "expected an int8 activation")
    expect("nothing was written beside the hostile files", sorted(p.suffix for p in cases.iterdir()) == [".tflite"] * 8)


def main():
    args = arguments()
    tmp = Path(tempfile.mkdtemp(prefix="resnet8-tflite-"))
    try:
        default, w4 = write_models(args, tmp)
        if default.exists() and w4.exists():
            against_tflm(args, [args.reference, default, w4])
            hostile(args, default, tmp)
            r = run_tool(args.bench, "-m", default, "--data", args.data, "--batch-sizes", "1,8", "--repeats", "1",
                         "--images", "32")  # fmt: skip
            expect("resnet8-bench measures a .tflite", r.returncode == 0 and "tflite" in r.stdout, r.stderr + r.stdout)
            r = run_tool(args.eval, "-m", default, "--module", "--data", args.data)
            expect_error("--module on a .tflite", r, 1, "a .tflite model; --module runs fp32 TorchScript exports only")
            r = run_tool(args.eval, "-m", default, "--engine", "qnnpack", "--data", args.data)
            expect_error("--engine on a .tflite", r, 1, "runs on the integer kernels; --engine chooses")
            r = run_tool(args.ptq, "--model", args.model, "-o", tmp / "k.pt", "--tflite", tmp / "k.tflite",
                         "--keep-float", "fc")  # fmt: skip
            expect_error("--tflite with --keep-float", r, 2, "--tflite", "drop --keep-float")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
