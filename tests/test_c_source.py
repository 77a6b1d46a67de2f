#!/usr/bin/env python3
"""The generated C from the outside. resnet8-ptq --c-source (the default plan and a 4-bit one) and
resnet8-micro (from the MLPerf Tiny reference .tflite) write C99 that the host's C compiler builds with
-std=c99 -O2 -Wall -Wextra -Werror. Built with tests/micro/classify.c, it gives, on all 10,000 test images,
every int8 score resnet8-eval's .tflite path gives for the same model, and on the first 1,000 every score
TensorFlow Lite Micro itself (PyPI tflite-micro) gives (the reference model's C: 1,000 images for both,
as tests/test_tflite_cli.py covers its .tflite path). Bad directories are refused before any work, and
a run that fails leaves no directory behind."""

import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from cli_check import expect, expect_error, finish
from cli_check import run as run_tool

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import tflm_check  # noqa: E402  (scripts/: TFLM's interpreter on CIFAR-10 images)

IMAGES = 10000
TFLM_IMAGES = 1000
CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]


def arguments():
    ap = argparse.ArgumentParser()
    for flag in ("ptq", "micro", "eval", "data", "model", "reference"):
        ap.add_argument(f"--{flag}", required=True, type=Path)
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    return ap.parse_args()


def generate(args, work):
    """(name, .tflite, C directory) for our default and 4-bit plans and the MLPerf Tiny reference."""
    models = []
    for name, extra in (("default", []), ("4-bit", ["--weight-bits", "4", "--best", "--adaround-iterations", "500"])):
        tflite, c_dir = work / f"{name}.tflite", work / f"{name}_c"
        r = run_tool(args.ptq, "--model", args.model, "--data", args.data, "--threads", "2", "--no-eval",
                     "-o", work / f"{name}.pt", "--tflite", tflite, "--c-source", c_dir, "--calib-per-class", "10",
                     *extra)  # fmt: skip
        expect(f"resnet8-ptq --c-source writes the {name} plan's C", r.returncode == 0 and "C99" in r.stdout, r.stderr)
        models.append((name, tflite, c_dir))
    c_dir = work / "reference_c"
    r = run_tool(args.micro, "-m", args.reference, "--c-source", c_dir)
    expect("resnet8-micro turns the MLPerf Tiny reference .tflite into C", r.returncode == 0, r.stderr)
    models.append(("reference", args.reference, c_dir))
    return models


def weight_bytes(c_dir):
    """The bytes of the int8_t weight arrays resnet8_model.c declares."""
    total = 0
    for line in (c_dir / "resnet8_model.c").read_text().splitlines():
        if line.startswith("static const int8_t ") and "_weights[" in line:
            total += int(line.split("[")[1].split("]")[0])
    return total


def build(args, c_dir):
    exe = c_dir / "classify"
    sources = sorted(str(p) for p in c_dir.glob("*.c")) + [str(REPO / "tests" / "micro" / "classify.c")]
    r = subprocess.run([args.cc, *CFLAGS, "-I", str(c_dir), *sources, "-o", str(exe)], capture_output=True, text=True)
    expect(f"{c_dir.name}: {args.cc} {' '.join(CFLAGS)} builds it", r.returncode == 0, r.stderr[-3000:])
    return exe if r.returncode == 0 else None


def classify(exe, data, n):
    """The harness's scores for the first n test images, in two processes."""
    batch = str(data / "test_batch.bin")
    halves = [(0, n // 2), (n // 2, n - n // 2)]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda h: subprocess.run([str(exe), batch, str(h[1]), str(h[0])], capture_output=True,
                                                       text=True, timeout=900), halves))  # fmt: skip
    if any(r.returncode != 0 for r in runs):
        return None
    rows = [line.split() for r in runs for line in r.stdout.splitlines()]
    return np.array(rows, dtype=np.int64)


def check_model(args, name, tflite, c_dir, work, n):
    exe = build(args, c_dir)
    if exe is None:
        return
    got = classify(exe, args.data, n)
    expect(f"{name}: the C classifies {n} images", got is not None and len(got) == n)
    if got is None or len(got) != n:
        return
    labels, predicted, scores = got[:, 0], got[:, 1], got[:, 2:]
    host = tflm_check.ours(args.eval, tflite, args.data, n, work)
    same = int((scores == host).all(axis=1).sum())
    expect(f"{name}: every int8 score the same as resnet8-eval's on {same} of {n} images", same == n)
    expect(f"{name}: resnet8_classify returns the first largest score", (predicted == scores.argmax(1)).all())
    images, _ = tflm_check.test_images(args.data, TFLM_IMAGES)
    micro = tflm_check.tflm(tflite, images)
    same = int((scores[:TFLM_IMAGES] == micro).all(axis=1).sum())
    expect(f"{name}: every int8 score the same as TFLM's on {same} of {TFLM_IMAGES} images", same == TFLM_IMAGES)
    print(f"     {name}: accuracy {(predicted == labels).mean():.2%} on {n} images, "
          f"{weight_bytes(c_dir)} bytes of weights")  # fmt: skip


def refusals(args, work):
    """Bad --c-source directories: exit 2 before any work, one line naming the flag; a failed run removes
    the directory it created."""
    a_file = work / "a_file"
    a_file.write_text("x")
    r = run_tool(args.micro, "-m", args.reference, "--c-source", a_file)
    expect_error("--c-source naming a file", r, 2, "--c-source", "is not a directory")
    r = run_tool(args.micro, "-m", args.reference, "--c-source", work / "missing" / "c")
    expect_error("--c-source in a directory that does not exist", r, 2, "--c-source", "does not exist")
    r = run_tool(args.micro, "-m", args.model, "--c-source", work / "from_pt")
    expect_error("resnet8-micro on a TorchScript file", r, 1, str(args.model))
    expect("  ... and no directory left", not (work / "from_pt").exists())
    ref_c = work / "reference_c"  # written by generate(): --c-source DIR holding the model itself
    shutil.copy(args.reference, ref_c / "r8_add.c")
    r = run_tool(args.micro, "-m", ref_c / "r8_add.c", "--c-source", ref_c)
    expect_error("resnet8-micro whose --c-source would overwrite its --model", r, 2, "refusing to overwrite an input")
    (ref_c / "r8_add.c").unlink()
    no_test = work / "no_test_batch"  # calibration works, the evaluation after the writes fails
    no_test.mkdir()
    for f in args.data.glob("data_batch_*.bin"):
        os.symlink(f, no_test / f.name)
    new_dir = work / "new_c"
    r = run_tool(args.ptq, "--model", args.model, "--data", no_test, "-o", work / "x.pt", "--c-source", new_dir,
                 "--calib-per-class", "1")  # fmt: skip
    expect_error("resnet8-ptq --c-source NEW_DIR whose run fails after writing", r, 1, "test_batch.bin")
    expect("  ... and says it wrote nothing", "wrote" not in r.stdout, r.stdout)
    expect("  ... leaves no NEW_DIR and no model", not new_dir.exists() and not (work / "x.pt").exists())


def hostile_names(args, work):
    """Tensor names are the file's: one made to end the comment it is quoted in stays a comment."""
    import test_tflite_cli  # its rewrite(): a .tflite changed through the published schema

    evil = work / "evil.tflite"

    def rename(m):
        for t in m.subgraphs[0].tensors:
            t.name = b"x */ int evil = 1; /* ??/"

    test_tflite_cli.rewrite(args.reference, evil, rename)
    c_dir = work / "evil_c"
    r = run_tool(args.micro, "-m", evil, "--c-source", c_dir)
    expect("resnet8-micro on a .tflite with hostile tensor names", r.returncode == 0, r.stderr)
    text = (c_dir / "resnet8_model.c").read_text() if r.returncode == 0 else ""
    harmless = "evil" in text and "*/ int evil" not in text and "??" not in text
    expect("  ... quotes them harmlessly in comments", harmless)
    if text:
        build(args, c_dir)


def main():
    args = arguments()
    work = Path(tempfile.mkdtemp(prefix="resnet8-c-"))
    try:
        models = generate(args, work)
        for name, tflite, c_dir in models:
            if (c_dir / "resnet8_model.c").exists():
                check_model(args, name, tflite, c_dir, work, TFLM_IMAGES if name == "reference" else IMAGES)
        sizes = {name: weight_bytes(c_dir) for name, _, c_dir in models if (c_dir / "resnet8_model.c").exists()}
        if "default" in sizes and "4-bit" in sizes:
            expect("4-bit weights stay packed two per byte (at most 52 % of the int8 bytes)",
                   sizes["4-bit"] <= 0.52 * sizes["default"], sizes)  # fmt: skip
        refusals(args, work)
        hostile_names(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
