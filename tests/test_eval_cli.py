#!/usr/bin/env python3
"""resnet8-eval from the outside: exit codes, one clear error line, JSON report, no leftovers."""

import json
import shutil
import sys
import tempfile
from pathlib import Path

from cli_check import arguments, expect, expect_error, finish
from cli_check import run as run_tool


def main():
    args = arguments("eval")

    def run(*a):
        return run_tool(args.eval, *a)

    tmp = Path(tempfile.mkdtemp(prefix="resnet8-cli-"))
    try:
        r = run("--help")
        expect(
            "--help exits 0 and lists the flags",
            r.returncode == 0
            and all(
                f in r.stdout
                for f in ["--model", "--native", "--module", "--data", "--batch-size", "--threads", "--limit", "--json"]
            ),
        )

        expect_error("no --model", run(), 2, "--model FILE is required")
        expect_error("unknown flag", run("--model", args.model, "--bogus"), 2, "bogus")
        zero = run("--model", args.model, "--batch-size", "0")
        expect_error("--batch-size 0", zero, 2, "--batch-size 0: expected an integer in 1..100000")
        expect_error("--threads not a number", run("--model", args.model, "--threads", "two"), 2, "two")
        expect_error("missing model file", run("--model", tmp / "absent.pt"), 1, "absent.pt: model file not found")
        junk = tmp / "junk.pt"
        junk.write_text("not a model")
        expect_error("junk model, TorchScript path", run("--model", junk), 1, "junk.pt: not a TorchScript file")
        expect_error("junk model, native path", run("--model", junk, "--native"), 1, "junk.pt: not a TorchScript file")
        expect_error(
            "--native with --module",
            run("--model", args.model, "--native", "--module"),
            2,
            "--native and --module exclude each other",
        )
        r = run("--model", args.model, "--native", "--kernels", "portable", "--limit", "200")
        expect(
            "--native --kernels portable: the fp32 network on the portable float kernels",
            r.returncode == 0 and "direct float convolutions on portable" in r.stdout,
            r.stderr + r.stdout,
        )
        expect_error(
            "--native --kernels with an integer kernel's name",
            run("--model", args.model, "--native", "--kernels", "avx512_vnni"),
            2,
            "--kernels: avx512_vnni: unknown float kernels; expected auto, portable, avx2 or avx512",
        )
        expect_error(
            "--kernels on an fp32 file without --native",
            run("--model", args.model, "--kernels", "avx2"),
            2,
            "not a .tflite model; --kernels chooses",
        )
        expect_error(
            "missing data dir",
            run("--model", args.model, "--data", tmp / "nodata"),
            1,
            "nodata: CIFAR-10 directory not found",
        )
        r = run_tool(args.eval, "--model", args.model, "--limit", "100", cwd=tmp)
        expect("from another working directory it finds the repository's data by itself",
               r.returncode == 0 and "accuracy" in r.stdout, r.stderr)  # fmt: skip
        corrupt = tmp / "corrupt"
        corrupt.mkdir()
        (corrupt / "test_batch.bin").write_bytes(b"\0" * 3072)
        expect_error(
            "truncated test batch",
            run("--model", args.model, "--data", corrupt),
            1,
            "test_batch.bin: 3072 bytes = 1.0 records; an official CIFAR-10 batch file holds exactly 10000 records",
        )
        expect_error(
            "truncated test batch, --partial-data",
            run("--model", args.model, "--data", corrupt, "--partial-data"),
            1,
            "test_batch.bin: size 3072 bytes is not a positive multiple",
        )
        expect_error(
            "--json into a missing directory",
            run("--model", args.model, "--data", args.data, "--json", tmp / "no" / "r.json"),
            1,
            "--json",
            "does not exist",
        )

        out = tmp / "out"
        out.mkdir()
        report = out / "report.json"
        r = run("--model", args.model, "--data", args.data, "--limit", "500", "--threads", "2", "--json", report)
        expect("--limit 500 --json runs", r.returncode == 0, r.stderr)
        if report.exists():
            j = json.loads(report.read_text())
            expect(
                "JSON has the stable fields",
                {
                    "model",
                    "data",
                    "libtorch_version",
                    "threads",
                    "batch_size",
                    "images",
                    "correct",
                    "accuracy",
                    "seconds",
                    "images_per_second",
                    "per_class",
                    "confusion_matrix",
                }
                <= set(j),
            )
            expect(
                "JSON counts 500 images, consistent totals",
                j["images"] == 500
                and sum(map(sum, j["confusion_matrix"])) == 500
                and sum(c["correct"] for c in j["per_class"]) == j["correct"]
                and abs(j["accuracy"] - j["correct"] / 500) < 1e-6
                and j["threads"] == 2,
                json.dumps(j)[:400],
            )
            expect("table and JSON agree", f"({j['correct']}/500)" in r.stdout, r.stdout)
        else:
            expect("JSON report written", False)
        # The three ways to run the fp32 export agree image by image on the first 500 test images.
        preds = {}
        for runner in ["", "--native", "--module"]:
            p = out / f"pred{runner}.txt"
            r = run(
                "--model",
                args.model,
                "--data",
                args.data,
                "--limit",
                "500",
                "--threads",
                "2",
                "--predictions",
                p,
                *([runner] if runner else []),
            )
            kind = runner.lstrip("-") or "torchscript"
            expect(f"{kind} runs and names itself", r.returncode == 0 and f"({kind}," in r.stdout, r.stderr + r.stdout)
            preds[kind] = p.read_text().split() if p.exists() else []
            p.unlink(missing_ok=True)
        expect(
            "torchscript, native and module give the same 500 predictions",
            len(preds["torchscript"]) == 500 and preds["torchscript"] == preds["native"] == preds["module"],
        )
        expect(
            "no temporary files left beside the report",
            sorted(p.name for p in out.iterdir()) == ["report.json"],
            str(list(out.iterdir())),
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
