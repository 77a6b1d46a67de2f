#!/usr/bin/env python3
"""Run resnet8-ptq over observers, weight granularity, reduce_range, calibration size and engines,
and print a Markdown table of int8 test accuracy, file size and speed (README.md, "PTQ choices").

Every row is one `resnet8-ptq ... --json` run on the full 10,000-image test set."""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import REPO


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ptq", type=Path, default=REPO / "build" / "resnet8-ptq")
    ap.add_argument("--threads", default="2")
    args = ap.parse_args()
    base = ["--calib-per-class", "100", "--seed", "0", "--observer", "percentile", "--reduce-range", "off"]
    rows = []
    for obs in ["minmax", "percentile", "mse"]:
        for weights in ["--per-channel", "--per-tensor"]:
            for rr in ["off", "on"]:
                rows.append([f"--observer={obs}", weights, f"--reduce-range={rr}"])
    for n in ["10", "50", "500"]:
        rows.append([f"--calib-per-class={n}"])
    for seed in ["1", "2", "3"]:
        rows.append([f"--seed={seed}"])
    for engine in ["fbgemm", "onednn", "qnnpack"]:
        rows.append([f"--engine={engine}"])

    print("| flags (beyond the defaults) | int8 accuracy | Δ vs fp32 | file bytes | int8 images/s | fp32 images/s |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for extra in rows:
            out, report = Path(tmp) / "q.pt", Path(tmp) / "q.json"
            cmd = [str(args.ptq), "--threads", args.threads, "-o", str(out), "--json", str(report)] + base + extra
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                print(f"| {' '.join(extra)} | failed: {res.stderr.strip()} | | | | |")
                continue
            j = json.loads(report.read_text())["evaluation"]
            f, q = j["fp32"], j["int8"]
            print(f"| `{' '.join(extra)}` | {100 * q['accuracy']:.2f} % | {100 * (q['accuracy'] - f['accuracy']):+.2f} pp "
                  f"| {q['bytes']:,} | {q['images_per_second']:,.0f} | {f['images_per_second']:,.0f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
