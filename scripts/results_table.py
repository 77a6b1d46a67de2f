#!/usr/bin/env python3
"""Regenerate the README's results table on this machine, from the current code, in one run.

Every row comes from this run (the full 10,000-image test set, 2 threads), on the CPU it names:
  - resnet8-eval on the fp32 export, as TorchScript and --native (the direct float kernels);
  - resnet8-ptq with the defaults (also --onnx, --tflite), --weight-bits 4 --best and --weight-bits 3 --best
    (each also --tflite), every file evaluated by resnet8-eval (the .tflite files in TFLM's arithmetic on the
    x86 kernels);
  - the default plan's ONNX file in ONNX Runtime (accuracy; images/s at batch 1,000);
  - scripts/tflm_check.py --litert on our two .tflite files and on MLPerf Tiny's reference: the accuracy in
    TensorFlow Lite Micro's own interpreter and in LiteRT, and how many images resnet8-eval scores identically.
images/s is resnet8-eval's figure at its default batch (1,000 images per call), so every row is measured the
same way. The Cortex-M rows come from scripts/mcu.sh, and the peers' speed from scripts/bench_peers.py.

  .venv/bin/python scripts/results_table.py            # ~12 min; prints the Markdown table
  .venv/bin/python scripts/results_table.py --json r.json
"""

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import REPO, cpu_flags, die, write_atomic
from onnx_peer import ort_session, test_set

PTQ_RUNS = {  # name: resnet8-ptq flags beyond the outputs
    "int8": [],
    "w4": ["--weight-bits", "4", "--best"],
    "w3": ["--weight-bits", "3", "--best"],
}


def say(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode != 0:
        die(f"results_table: {' '.join(map(str, cmd[:3]))} ... failed:\n{r.stderr.strip()}")
    return r.stdout


def evaluate(args, model, work, *flags):
    out = work / (Path(model).name + "".join(flags) + ".eval.json")
    run([args.build / "resnet8-eval", "-m", model, "--data", args.data, "-t", "2", "--json", out, *flags])
    j = json.loads(out.read_text())
    return {"accuracy": j["accuracy"], "images_per_second": j["images_per_second"], "bytes": j["model"]["bytes"]}


def quantize(args, name, flags, work):
    pt, extra = work / f"{name}.pt", ["--tflite", work / f"{name}.tflite"]
    if name == "int8":
        extra += ["--onnx", work / "int8.onnx"]
    start = time.perf_counter()
    run([args.build / "resnet8-ptq", "--data", args.data, "-t", "2", "--no-eval", "-o", pt, *extra, *flags])
    return {
        "seconds": round(time.perf_counter() - start, 1),
        "pt": evaluate(args, pt, work),
        "tflite": evaluate(args, work / f"{name}.tflite", work),
    }


def onnx_runtime(args, path):
    images, labels = test_set(args.data)
    session = ort_session(path, 2)
    name = session.get_inputs()[0].name
    start, preds = time.perf_counter(), []
    for i in range(0, len(images), 1000):
        preds.append(session.run(None, {name: images[i : i + 1000].astype(np.float32)})[0].argmax(1))
    seconds = time.perf_counter() - start
    return {
        "accuracy": float((np.concatenate(preds) == labels).mean()),
        "images_per_second": len(images) / seconds,
        "bytes": Path(path).stat().st_size,
    }


def tflm(args, work):
    out = work / "tflm.json"
    models = [work / "int8.tflite", work / "w4.tflite", REPO / "data" / "pretrainedResnet_quant.tflite"]
    run(
        [
            sys.executable,
            REPO / "scripts" / "tflm_check.py",
            "--litert",
            "--json",
            out,
            "--data",
            args.data,
            "--eval",
            args.build / "resnet8-eval",
            *models,
        ]
    )
    return {Path(row["model"]).name: row for row in json.loads(out.read_text())}


def pct(x):
    return f"{100 * x:.2f} %"


def table(r):
    m, t = r["ptq"], r["tflm"]
    ref = t["pretrainedResnet_quant.tflite"]
    rows = [
        ("fp32, the Keras model ported (TorchScript)", pct(r["fp32"]["accuracy"]), r["fp32"]),
        ("fp32 `--native`: our direct float kernels", pct(r["fp32_native"]["accuracy"]), r["fp32_native"]),
        ("int8, `resnet8-ptq` defaults (7-bit weights)", pct(m["int8"]["pt"]["accuracy"]), m["int8"]["pt"]),
        ("4-bit weights, `--weight-bits 4 --best`", pct(m["w4"]["pt"]["accuracy"]), m["w4"]["pt"]),
        ("3-bit weights, `--weight-bits 3 --best`", pct(m["w3"]["pt"]["accuracy"]), m["w3"]["pt"]),
        ("the int8 plan as ONNX QDQ (`--onnx`), in ONNX Runtime", pct(r["onnx"]["accuracy"]), r["onnx"]),
        (
            "int8 `.tflite` (`--tflite`) in TFLM / LiteRT; `resnet8-eval` = TFLM",
            f"{pct(t['int8.tflite']['correct_tflm'] / 1e4)} / {pct(t['int8.tflite']['correct_litert'] / 1e4)}",
            m["int8"]["tflite"],
        ),
        (
            "4-bit `.tflite` (INT4) in TFLM / LiteRT",
            f"{pct(t['w4.tflite']['correct_tflm'] / 1e4)} / {pct(t['w4.tflite']['correct_litert'] / 1e4)}",
            m["w4"]["tflite"],
        ),
        (
            "3-bit `.tflite` (INT4 storage) in `resnet8-eval` (TFLM's arithmetic)",
            pct(m["w3"]["tflite"]["accuracy"]),
            m["w3"]["tflite"],
        ),
        (
            "MLPerf Tiny's reference int8 `.tflite` in TFLM / LiteRT",
            f"{pct(ref['correct_tflm'] / 1e4)} / {pct(ref['correct_litert'] / 1e4)}",
            {"bytes": ref["bytes"]},
        ),
    ]
    lines = ["| model (10,000 test images) | accuracy | file | images/s, 2 threads |", "|---|---|---|---|"]
    for name, acc, row in rows:
        speed = f"{row['images_per_second']:,.0f}" if "images_per_second" in row else ""
        lines.append(f"| {name} | {acc} | {row['bytes']:,} B | {speed} |")
    same = ", ".join(f"{k} {v['identical_to_tflm']:,}" for k, v in t.items())
    lines.append(f"\n{r['machine']}; resnet8-eval scores identical to TFLM: {same} of 10,000.")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--data", type=Path, default=REPO / "data" / "cifar-10-batches-bin")
    ap.add_argument("--json", type=Path, help="also write every figure as JSON")
    args = ap.parse_args()
    for need in (args.build / "resnet8-ptq", args.data / "test_batch.bin", REPO / "data" / "resnet8_fp32.pt"):
        if not need.exists():
            die(f"results_table: {need} not found; run scripts/run.sh first")
    r = {"machine": f"CPU flags `{cpu_flags()}`, {datetime.date.today().isoformat()}"}
    with tempfile.TemporaryDirectory(prefix="resnet8-results-") as tmp:
        work = Path(tmp)
        say("fp32")
        r["fp32"] = evaluate(args, REPO / "data" / "resnet8_fp32.pt", work)
        r["fp32_native"] = evaluate(args, REPO / "data" / "resnet8_fp32.pt", work, "--native")
        r["ptq"] = {}
        for name, flags in PTQ_RUNS.items():
            say(f"resnet8-ptq {name} {' '.join(flags)}")
            r["ptq"][name] = quantize(args, name, flags, work)
        say("ONNX Runtime")
        r["onnx"] = onnx_runtime(args, work / "int8.onnx")
        say("TFLM and LiteRT (a few minutes)")
        r["tflm"] = tflm(args, work)
    if args.json:
        write_atomic(args.json, json.dumps(r, indent=1).encode())
    print(table(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
