#!/usr/bin/env python3
"""resnet8-eval's .tflite path against TensorFlow Lite Micro itself, image by image.

For each model file: resnet8-eval writes the int8 output tensor of every test image (--scores); TFLM's
own host interpreter (PyPI tflite-micro, its reference kernels) runs the same images; every score of
every image must be the same. Also reported: the accuracy in each, LiteRT's (ai-edge-litert, a second
runtime, which rounds differently), TFLM's arena from its recording allocator, and with --int8-file the
predictions TFLM and resnet8-eval on the C++ int8 TorchScript file (written by the same resnet8-ptq run)
disagree on.

  .venv/bin/python scripts/tflm_check.py data/pretrainedResnet_quant.tflite my.tflite        # all 10,000
  .venv/bin/python scripts/tflm_check.py --images 1000 --require-identical my.tflite         # as the tests do
  .venv/bin/python scripts/tflm_check.py my.tflite --int8-file my.pt                          # against LibTorch
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def test_images(data_dir, n):
    raw = np.fromfile(Path(data_dir) / "test_batch.bin", dtype=np.uint8).reshape(-1, 3073)[:n]
    return raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), raw[:, 0].astype(np.int64)


def eval_output(eval_tool, model, data_dir, n, work, flag):
    """What resnet8-eval writes with `flag` (--scores, --predictions) for the first n test images."""
    out = Path(work) / flag.strip("-")
    cmd = [str(eval_tool), "-m", str(model), "--data", str(data_dir), "--limit", str(n), "--threads", "2"]
    r = subprocess.run([*cmd, flag, str(out)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"tflm_check: resnet8-eval failed on {model}:\n{r.stderr}")
    return np.loadtxt(out, dtype=np.int64)


def ours(eval_tool, model, data_dir, n, work):
    """resnet8-eval's int8 output tensor for the first n test images."""
    return eval_output(eval_tool, model, data_dir, n, work, "--scores").reshape(n, -1)


def predictions(eval_tool, model, data_dir, n, work):
    """resnet8-eval's predicted classes for the first n test images."""
    return eval_output(eval_tool, model, data_dir, n, work, "--predictions").reshape(n)


def tflm(model, images):
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_file(str(model))
    out = []
    for x in images:
        it.set_input((x.astype(np.int16) - 128).astype(np.int8)[None], 0)
        it.invoke()
        out.append(it.get_output(0).astype(np.int64)[0])
    return np.array(out)


def litert(model, images):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(model))
    it.allocate_tensors()
    i_in, i_out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    out = []
    for x in images:
        it.set_tensor(i_in, (x.astype(np.int16) - 128).astype(np.int8)[None])
        it.invoke()
        out.append(it.get_tensor(i_out).astype(np.int64)[0])
    return np.array(out)


def arena(model):
    """TFLM's recording allocator: (total, head, tail) bytes of the arena, after one inference."""
    code = (
        "import numpy as np\n"
        "from tflite_micro.python.tflite_micro import runtime\n"
        f"it = runtime.Interpreter.from_file({str(model)!r})\n"
        "it.set_input(np.zeros((1, 32, 32, 3), np.int8), 0)\n"
        "it.invoke()\n"
        "it.print_allocations()\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    text = r.stdout + r.stderr
    found = {k: int(v) for k, v in re.findall(r"Arena allocation (total|head|tail) (\d+) bytes", text)}
    return found.get("total"), found.get("head"), found.get("tail")


def check(args, model, int8_file, images, labels, work):
    mine, micro = ours(args.eval, model, args.data, len(images), work), tflm(model, images)
    row = {
        "model": str(model),
        "bytes": Path(model).stat().st_size,
        "images": len(images),
        "identical_to_tflm": int((mine == micro).all(axis=1).sum()),
        "correct_resnet8_eval": int((mine.argmax(1) == labels).sum()),
        "correct_tflm": int((micro.argmax(1) == labels).sum()),
    }
    row["arena_total"], row["arena_head"], row["arena_tail"] = arena(model)
    if args.litert:
        lite = litert(model, images)
        row["correct_litert"] = int((lite.argmax(1) == labels).sum())
        row["identical_litert_tflm"] = int((lite == micro).all(axis=1).sum())
        row["same_prediction_litert_tflm"] = int((lite.argmax(1) == micro.argmax(1)).sum())
    if int8_file:
        torchscript = predictions(args.eval, int8_file, args.data, len(images), work)
        differ = torchscript != micro.argmax(1)
        row["int8_file"] = str(int8_file)
        row["correct_int8_file"] = int((torchscript == labels).sum())
        row["predictions_differ_int8_file_tflm"] = int(differ.sum())
        row["of_which_tflm_right"] = int((differ & (micro.argmax(1) == labels)).sum())
        row["of_which_int8_file_right"] = int((differ & (torchscript == labels)).sum())
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--eval", type=Path, default=REPO / "build" / "resnet8-eval")
    ap.add_argument("--data", type=Path, default=REPO / "data" / "cifar-10-batches-bin")
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--litert", action="store_true", help="also run LiteRT (ai-edge-litert)")
    ap.add_argument("--json", type=Path, help="write the rows as JSON")
    same_plan = "the int8 TorchScript file of the same plan, once per model in order (- for none)"
    ap.add_argument("--int8-file", type=Path, action="append", default=[], help=same_plan)
    ap.add_argument("--require-identical", action="store_true", help="exit 1 unless every output is identical")
    args = ap.parse_intermixed_args()
    if args.int8_file and len(args.int8_file) != len(args.models):
        ap.error(f"--int8-file given {len(args.int8_file)} times for {len(args.models)} models (- for none)")
    pairs = [None if str(f) == "-" else f for f in args.int8_file] or [None] * len(args.models)
    images, labels = test_images(args.data, args.images)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for model, int8_file in zip(args.models, pairs):
            rows.append(check(args, model, int8_file, images, labels, work))
            r = rows[-1]
            lite = f", {r['correct_litert'] / r['images']:.2%} in LiteRT" if args.litert else ""
            if int8_file:
                lite += (
                    f"; {int8_file} in resnet8-eval {r['correct_int8_file'] / r['images']:.2%}, "
                    f"{r['predictions_differ_int8_file_tflm']} predictions differ from TFLM's "
                    f"(TFLM right on {r['of_which_tflm_right']}, the int8 file on {r['of_which_int8_file_right']})"
                )
            print(
                f"{model}: {r['identical_to_tflm']} of {r['images']} images give identical int8 outputs in "
                f"resnet8-eval and TFLM; accuracy {r['correct_tflm'] / r['images']:.2%} in TFLM "
                f"({r['correct_tflm']}){lite}; TFLM arena {r['arena_total']} B; {r['bytes']} B file",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    if args.require_identical and any(r["identical_to_tflm"] != r["images"] for r in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
