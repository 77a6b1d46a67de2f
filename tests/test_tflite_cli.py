#!/usr/bin/env python3
"""TFLite from the outside: resnet8-ptq --tflite writes int8 and INT4 models that TensorFlow Lite Micro
itself (PyPI tflite-micro) and LiteRT load; resnet8-eval's .tflite path gives TFLM's int8 outputs, every
score of every image, on 1,000 test images, for our files and the MLPerf Tiny reference; bad .tflite files
are refused with one line."""

import argparse
import json
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
    default, w4, w3 = out / "q.tflite", out / "w4.tflite", out / "w3.tflite"
    r = run_tool(args.ptq, "--model", args.model, "--data", args.data, "--threads", "2", "-o", out / "q.pt",
                 "--tflite", default, "--calib-per-class", "10", "--no-eval")  # fmt: skip
    expect("resnet8-ptq --tflite writes the default plan", r.returncode == 0 and "TFLite int8" in r.stdout, r.stderr)
    r = run_tool(args.ptq, "--model", args.model, "--data", args.data, "--threads", "2", "-o", out / "w4.pt",
                 "--tflite", w4, "--weight-bits", "4", "--best", "--adaround-iterations", "500",
                 "--calib-per-class", "10", "--no-eval")  # fmt: skip
    expect(
        "resnet8-ptq --tflite writes a 4-bit plan with INT4 weights", r.returncode == 0 and "INT4" in r.stdout, r.stderr
    )
    # 3-bit weights take INT4 storage too (int8 storage until 2026-12-06: 92,160 B)
    r = run_tool(args.ptq, "--model", args.model, "--data", args.data, "--threads", "2", "-o", out / "w3.pt",
                 "--tflite", w3, "--weight-bits", "3", "--best", "--adaround-iterations", "300",
                 "--calib-per-class", "10", "--no-eval")  # fmt: skip
    expect(
        "resnet8-ptq --tflite writes a 3-bit plan with INT4 weights", r.returncode == 0 and "INT4" in r.stdout, r.stderr
    )
    if default.exists() and w4.exists() and w3.exists():
        sizes = default.stat().st_size, w4.stat().st_size, w3.stat().st_size
        # int8: 88,000 B until its biases carried their scales (+4.4 KB, what LiteRT needs: litert_delegates)
        expect(
            "file sizes: int8 <= 93,000 B, INT4 (4-bit and 3-bit) <= 50,000 B",
            sizes[0] <= 93000 and max(sizes[1:]) <= 50000,
            sizes,
        )
    return default, w4, w3


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


def layer_widths(w4):
    """A low-bit file keeps its first convolution (and its dense layer) at 7 bits in INT8 tensors; the other
    convolutions are INT4."""
    s = schema()
    m = s.ModelT.InitFromObj(s.Model.GetRootAsModel(w4.read_bytes(), 0))
    g, types = m.subgraphs[0], []
    for o in g.operators:
        if m.operatorCodes[o.opcodeIndex].builtinCode == s.BuiltinOperator.CONV_2D:
            w = g.tensors[o.inputs[1]]
            types.append((w.type, int(np.abs(np.frombuffer(bytes(m.buffers[w.buffer].data), np.int8)).max())))
    int8, int4 = s.TensorType.INT8, s.TensorType.INT4
    expect(
        "4-bit file: the first conv's weights are INT8 up to 63 (7 bits), every other conv's INT4",
        types and types[0][0] == int8 and 7 < types[0][1] <= 63 and all(t == int4 for t, _ in types[1:]),
        types,
    )


def bias_scales(default):
    """Every int32 bias of the default file records its scale per channel: input scale x weight scale."""
    s = schema()
    m = s.ModelT.InitFromObj(s.Model.GetRootAsModel(default.read_bytes(), 0))
    g, wrong, layers = m.subgraphs[0], [], (s.BuiltinOperator.CONV_2D, s.BuiltinOperator.FULLY_CONNECTED)
    for o in g.operators:
        if m.operatorCodes[o.opcodeIndex].builtinCode not in layers:
            continue
        x, w, b = (g.tensors[i] for i in o.inputs[:3])
        want = np.float32(x.quantization.scale[0]) * np.asarray(w.quantization.scale, np.float32)
        have = np.asarray(b.quantization.scale if b.quantization and b.quantization.scale is not None else [])
        zero = b.quantization.zeroPoint if b.quantization and b.quantization.zeroPoint is not None else []
        if have.shape != want.shape or not np.allclose(have, want, rtol=1e-6) or any(zero) or len(zero) != len(have):
            wrong.append(b.name.decode())
    expect("every bias records input scale x weight scale per channel, zero point 0", not wrong, wrong)


def litert_delegates(default):
    """LiteRT's XNNPACK delegate takes the whole default file from its input, in one partition (a layer whose bias
    has no scale it leaves to LiteRT's builtin kernels: the file ran 3.5x slower)."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(default), num_threads=1)
    it.allocate_tensors()
    first = it.get_input_details()[0]["index"]
    parts = [list(o["inputs"]) for o in it._get_ops_details() if o["op_name"] == "DELEGATE"]
    expect("LiteRT's XNNPACK delegate takes the default file in one partition, from its input",
           len(parts) == 1 and first in parts[0], [len(p) for p in parts])  # fmt: skip


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
    for name, change, fragment in undefined_cases(s):
        rewrite(good, cases / f"{name}.tflite", change)
        refuse(name.replace("_", " "), cases / f"{name}.tflite", fragment)
    written = sorted(p.suffix for p in cases.iterdir())
    expect("nothing was written beside the hostile files", written == [".tflite"] * len(written), written)


def undefined_cases(s):
    """Files TFLM has no defined result for, or runs with invented parameters: (name, change, the error's words)."""

    def op(m, code):
        return next(o for o in m.subgraphs[0].operators if m.operatorCodes[o.opcodeIndex].builtinCode == code)

    def conv(m):
        return op(m, s.BuiltinOperator.CONV_2D)

    def channel_scale(m):  # one filter channel at 1e30: a requantization shift of ~100
        q = m.subgraphs[0].tensors[conv(m).inputs[1]].quantization
        q.scale = [1e30, *list(q.scale)[1:]]

    def output_scale(m):  # an activation scale of 3.4e38 after the first convolution
        m.subgraphs[0].tensors[conv(m).outputs[0]].quantization.scale = [3.4e38]

    def relu6_tiny(m):  # RELU6 at output scale 1e-30: 6 / 1e-30 steps is no int32
        c = conv(m)
        c.builtinOptions.fusedActivationFunction = s.ActivationFunctionType.RELU6
        m.subgraphs[0].tensors[c.outputs[0]].quantization.scale = [1e-30]

    def no_options(m):
        c = conv(m)
        c.builtinOptionsType, c.builtinOptions = s.BuiltinOptions.NONE, None

    def wrong_options(m):
        c = conv(m)
        c.builtinOptionsType, c.builtinOptions = s.BuiltinOptions.Pool2DOptions, s.Pool2DOptionsT()

    return [
        ("with_a_channel_scale_of_1e30", channel_scale, "needs a left shift of"),
        ("with_an_activation_scale_of_3.4e38", output_scale, "needs a left shift of"),
        ("with_RELU6_at_scale_1e-30", relu6_tiny, "beyond int32 (TFLM refuses it)"),
        ("with_a_CONV_2D_without_options", no_options, "CONV_2D operator has no options; expected its Conv2DOptions"),
        ("with_a_CONV_2D_with_pooling_options", wrong_options, "options of type Pool2DOptions"),
    ]


def bench(args, default, tmp):
    """resnet8-bench counts a .tflite's operations from its program and rates int8 in GOP/s."""
    out = tmp / "bench.json"
    r = run_tool(args.bench, "-m", default, "--data", args.data, "--batch-sizes", "1,8", "--repeats", "1",
                 "--images", "32", "--json", out)  # fmt: skip
    expect("resnet8-bench measures a .tflite", r.returncode == 0 and "tflite" in r.stdout, r.stderr + r.stdout)
    expect("  ... in GOP/s, not GFLOP/s", "GOP/s" in r.stdout and "GFLOP/s" not in r.stdout, r.stdout)
    if out.exists():
        j = json.loads(out.read_text())
        expect("  ... with the program's own operation count (2 x 12,501,632)",
               j["ops_per_image"] == 2 * 12501632 and j["arithmetic"] == "integer", j["ops_per_image"])  # fmt: skip


def runner_flags(args, default, tmp):
    """The TorchScript runners' flags are refused for a .tflite, exit 2 and one line; a short file named .tflite
    is called a bad TFLite file, not a bad TorchScript file."""
    for flags, what in ((["--module"], "--module"), (["--native"], "--native"), (["--engine", "qnnpack"], "--engine")):
        r = run_tool(args.eval, "-m", default, *flags, "--data", args.data)
        expect_error(f"{what} on a .tflite", r, 2, f"{what} chooses")
    short = tmp / "short.tflite"
    short.write_bytes(b"TFL3")
    r = run_tool(args.eval, "-m", short, "--data", args.data)
    expect_error("a .tflite of 4 bytes", r, 1, "short.tflite: not a TFLite model")


def main():
    args = arguments()
    tmp = Path(tempfile.mkdtemp(prefix="resnet8-tflite-"))
    try:
        default, w4, w3 = write_models(args, tmp)
        if default.exists() and w4.exists() and w3.exists():
            against_tflm(args, [args.reference, default, w4, w3])
            bias_scales(default)
            layer_widths(w4)
            litert_delegates(default)
            hostile(args, default, tmp)
            bench(args, default, tmp)
            runner_flags(args, default, tmp)
            r = run_tool(args.ptq, "--model", args.model, "-o", tmp / "k.pt", "--tflite", tmp / "k.tflite",
                         "--keep-float", "fc")  # fmt: skip
            expect_error("--tflite with --keep-float", r, 2, "--tflite", "drop --keep-float")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
