#!/usr/bin/env python3
"""Run resnet8-ptq over int8 schemes and engines, observers, weight granularity, calibration size and
seeds, and print a Markdown table of int8 test accuracy, file size and speed (README.md, "PTQ choices").

Every row is one `resnet8-ptq ... --json` run on the full 10,000-image test set; the defaults are
7-bit weights, 8-bit activations, percentile observer, per-channel weights, 100 images per class, seed 0
and the default engine of this CPU. --avx2-kernels caps FBGEMM and oneDNN at AVX2 for every run, so a
machine with AVX-512 VNNI measures the kernels of a CPU without it."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import REPO, cpu_flags


def rows():
    out = []
    for engine in ["x86", "fbgemm", "onednn"]:
        for scheme in [
            ["--weight-bits=7", "--reduce-range=off"],
            ["--weight-bits=8", "--reduce-range=on"],
            ["--weight-bits=8", "--reduce-range=off"],
        ]:
            out.append([f"--engine={engine}", *scheme])
    out.append(["--engine=qnnpack"])
    for obs in ["minmax", "mse"]:
        out.append([f"--observer={obs}"])
    for obs in ["minmax", "percentile", "mse"]:
        out.append([f"--observer={obs}", "--per-tensor"])
    out += [[f"--calib-per-class={n}"] for n in ["10", "50", "500"]]
    out += [[f"--seed={seed}"] for seed in ["1", "2", "3"]]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ptq", type=Path, default=REPO / "build" / "resnet8-ptq")
    ap.add_argument("--threads", default="2")
    ap.add_argument(
        "--avx2-kernels", action="store_true", help="FBGEMM_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2"
    )
    args = ap.parse_args()
    env = dict(os.environ)
    if args.avx2_kernels:
        env.update(FBGEMM_ENABLE_INSTRUCTIONS="AVX2", ONEDNN_MAX_CPU_ISA="AVX2")
    print(f"CPU flags: {cpu_flags()}{'; kernels capped at AVX2' if args.avx2_kernels else ''}\n")
    print(
        "| flags (beyond the defaults) | scheme, engine | int8 accuracy | Δ vs fp32 | file bytes | int8 images/s "
        "| fp32 images/s | int8/fp32 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for extra in [[]] + rows():
            out, report = Path(tmp) / "q.pt", Path(tmp) / "q.json"
            cmd = [str(args.ptq), "--threads", args.threads, "-o", str(out), "--json", str(report)] + extra
            res = subprocess.run(cmd, capture_output=True, text=True, env=env)
            flags = f"`{' '.join(extra)}`" if extra else "(defaults)"
            if res.returncode != 0:
                reason = "refused: would saturate int16" if "saturate" in res.stderr else res.stderr.strip()
                print(f"| {flags} | | {reason} | | | | | |", flush=True)
                continue
            j = json.loads(report.read_text())
            m, f, q = j["ptq"]["metadata"], j["evaluation"]["fp32"], j["evaluation"]["int8"]
            scheme = f"w{m['weight_bits']}a{m['activation_bits']}, {m['engine']}"
            print(
                f"| {flags} | {scheme} | {100 * q['accuracy']:.2f} % | {100 * (q['accuracy'] - f['accuracy']):+.2f} pp "
                f"| {q['bytes']:,} | {q['images_per_second']:,.0f} | {f['images_per_second']:,.0f} "
                f"| {q['images_per_second'] / f['images_per_second']:.2f}x |",
                flush=True,
            )


if __name__ == "__main__":
    sys.exit(main())
