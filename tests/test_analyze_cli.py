#!/usr/bin/env python3
"""resnet8-analyze from the outside: a small real run (8-bit only) with JSON, and clear flag errors."""

import json
import shutil
import sys
import tempfile
from pathlib import Path

from cli_check import arguments, expect, expect_error, finish
from cli_check import run as run_tool


def main():
    args = arguments("analyze")
    tmp = Path(tempfile.mkdtemp(prefix="resnet8-analyze-"))

    def analyze(*a):
        return run_tool(args.analyze, "--data", args.data, "--model", args.model, "--threads", "2", *a)

    try:
        expect_error("bad --bits", analyze("--bits", "8,1"), 2, "--bits 8,1")
        expect_error("bad --mixed", analyze("--mixed", "w4x8"), 2, "--mixed", "w4x8")
        expect_error("bad --observer", analyze("--observer", "kl"), 2, "--observer")
        expect_error("bad --sections", analyze("--sections", "sweep,everything"), 2, "--sections", "'everything'")
        expect_error("bad --rounding", analyze("--rounding", "up"), 2, "--rounding", "expected nearest or adaround")
        expect_error("bad --compare", analyze("--sections", "compare", "--compare", "w4"), 2, "--compare")
        report = tmp / "a.json"
        r = analyze(
            "--bits", "8", "--sensitivity", "w8a8", "--mixed", "w8a8", "--calib-per-class", "10", "--json", report
        )
        expect("8-bit analysis runs", r.returncode == 0, r.stderr)
        if r.returncode == 0:
            j = json.loads(report.read_text())
            expect("fp32 accuracy is the export's", abs(j["fp32_accuracy"] - 87.19) < 1e-9, j["fp32_accuracy"])
            expect(
                "sweep: per-tensor and per-channel w8a8, both within 1 pp of fp32",
                sorted(s["weights"] for s in j["sweep"]) == ["per_channel", "per_tensor"]
                and all(abs(s["accuracy"] - j["fp32_accuracy"]) < 1.0 for s in j["sweep"]),
                j["sweep"],
            )
            expect("sensitivity: one row per layer", len(j["sensitivity"]) == 10, len(j["sensitivity"]))
            steps = j["mixed_precision"]["steps"]
            expect(
                "mixed precision at w8a8 stops at k=0 (already within 1 pp)",
                len(steps) == 1 and steps[0]["k"] == 0 and steps[0]["drop"] <= 1.0,
                steps,
            )
        report = tmp / "c.json"
        r = analyze(
            "--sections",
            "compare",
            "--compare",
            "w3a8",
            "--calib-per-class",
            "5",
            "--adaround-iterations",
            "300",
            "--json",
            report,
        )
        expect("method comparison runs", r.returncode == 0, r.stderr)
        if r.returncode == 0:
            j = json.loads(report.read_text())
            row = j["method_comparison"][0]["accuracy"] if len(j.get("method_comparison", [])) == 1 else {}
            expect(
                "one row (w3a8) with the six methods, and no sweep",
                sorted(row) == sorted(["nearest", "+weight MSE", "+CLE", "+bias correction", "AdaRound", "all"])
                and "sweep" not in j,
                j,
            )
            # 3-bit round-to-nearest collapses; learned rounding recovers most of it even on 50 images.
            expect(
                "at w3a8 AdaRound and all methods are far above round-to-nearest",
                row and min(row["AdaRound"], row["all"]) > row["nearest"] + 30,
                row,
            )
            expect(
                "the JSON lists the 50 calibration indices",
                len(j["calibration_indices"]) == 50 and max(j["calibration_indices"]) < 50000,
                j["calibration_indices"][:5],
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
