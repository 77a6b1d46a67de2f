#!/usr/bin/env python3
"""resnet8-analyze from the outside: a small real run (8-bit only) with JSON, and clear flag errors."""

import json
import re
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
        expect("  ... and says how long it will take before it starts",
               re.search(r"estimate +~\d+ simulated plans of \d+ test images .*: about \d+ (s|min)", r.stdout),
               r.stdout[:600])  # fmt: skip
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
        what_if(analyze, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


def what_if(analyze, tmp):
    """--sections what-if: one plan with the full reports beside fp32, on --limit test images."""
    r = analyze("--sections", "what-if", "--keep-float", "stack9.conv")
    expect_error("--keep-float with an unknown layer, before calibration", r, 2, "--keep-float", "stack9.conv")
    report = tmp / "w.json"
    r = analyze("--sections", "what-if", "--what-if", "w4a8", "--per-tensor", "--keep-float", "fc", "--limit", "300",
                "--calib-per-class", "5", "--json", report)  # fmt: skip
    expect("a what-if run", r.returncode == 0 and "what if w4a8 (per-tensor weights; fp32: fc)" in r.stdout, r.stderr)
    if r.returncode != 0:
        return
    w = json.loads(report.read_text())["what_if"]
    fp32, sim = w["fp32"], w["simulated"]
    expect(
        "its plan: w4a8, per-tensor, fc kept in fp32, one scale per quantized layer",
        w["config"] == "w4a8" and w["weights"] == "per_tensor" and w["fp32_layers"] == ["fc"]
        and all(len(layer["weight_scales"]) == (0 if layer["kept_float"] else 1) for layer in w["plan"]["layers"])
        and [layer["layer"] for layer in w["plan"]["layers"] if layer["kept_float"]] == ["fc"],
        w["plan"]["layers"][-1],
    )  # fmt: skip
    expect(
        "both reports on the same 300 images, per class and a 10 x 10 confusion matrix that sums to them",
        fp32["images"] == sim["images"] == 300
        and len(sim["per_class"]) == 10
        and sum(map(sum, sim["confusion_matrix"])) == 300
        and sum(map(sum, fp32["confusion_matrix"])) == 300,
        sim["images"],
    )
    expect("the simulated plan loses accuracy against fp32, not all of it",
           10 < 100 * sim["accuracy"] <= 100 * fp32["accuracy"] + 2, (sim["accuracy"], fp32["accuracy"]))  # fmt: skip
    expect("the plan's graph is in the JSON", [n["name"] for n in w["plan"]["graph"]][:2] == ["input", "stem.conv"])


if __name__ == "__main__":
    sys.exit(main())
