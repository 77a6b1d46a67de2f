#!/usr/bin/env python3
"""resnet8-bench from the outside: a small real measurement with JSON, and clear errors for bad flags."""

import json
import shutil
import sys
import tempfile
from pathlib import Path

from cli_check import arguments, expect, expect_error, finish
from cli_check import run as run_tool


def main():
    args = arguments("bench")
    tmp = Path(tempfile.mkdtemp(prefix="resnet8-bench-"))

    def bench(*a):
        return run_tool(args.bench, "--data", args.data, *a)

    try:
        r = run_tool(args.bench, "--help")
        expect(
            "--help lists the flags",
            r.returncode == 0
            and all(
                f in r.stdout
                for f in [
                    "--model",
                    "--native",
                    "--batch-sizes",
                    "--threads",
                    "--repeats",
                    "--images",
                    "--profile",
                    "--json",
                ]
            ),
        )
        expect_error("no --model", bench(), 2, "--model FILE is required")
        expect_error("bad batch list", bench("--model", args.model, "--batch-sizes", "1,x"), 2, "--batch-sizes 1,x")
        expect_error("batch size 0", bench("--model", args.model, "--batch-sizes", "0"), 2, "integers in 1..100000")
        expect_error("bad thread list", bench("--model", args.model, "--threads", "2,"), 2, "--threads")
        expect_error("missing model", bench("--model", tmp / "absent.pt"), 1, "absent.pt: model file not found")
        expect_error(
            "--profile on our own kernels refused",
            bench("--model", args.model, "--native", "--profile", "--batch-sizes", "1"),
            2,
            "--profile: LibTorch's profiler sees LibTorch's operators only",
        )

        report = tmp / "bench.json"
        for native in ([], ["--native"]):
            r = bench(
                "--model",
                args.model,
                *native,
                "--batch-sizes",
                "1,16",
                "--threads",
                "1,2",
                "--repeats",
                "3",
                "--images",
                "64",
                "--json",
                report,
            )
            name = "native" if native else "torchscript"
            expect(f"{name}: runs", r.returncode == 0, r.stderr)
            if r.returncode != 0:
                continue
            j = json.loads(report.read_text())
            rows = j["results"]
            expect(
                f"{name}: one row per (threads, batch), 3 runs each, median among them",
                [(x["threads"], x["batch_size"]) for x in rows] == [(1, 1), (1, 16), (2, 1), (2, 16)]
                and all(
                    len(x["runs"]) == 3
                    and min(x["runs"]) <= x["images_per_second"] <= max(x["runs"])
                    and x["images_per_second"] > 0
                    for x in rows
                ),
                json.dumps(rows)[:500],
            )
            expect(
                f"{name}: latency percentiles at batch 1 only, p50 <= p90 <= p99",
                all(("latency_ms" in x) == (x["batch_size"] == 1) for x in rows)
                and all(
                    0 < x["latency_ms"]["p50"] <= x["latency_ms"]["p90"] <= x["latency_ms"]["p99"]
                    for x in rows
                    if "latency_ms" in x
                ),
            )
            expect(f"{name}: peak memory reported", j["peak_rss_bytes"] > 10_000_000)
            expect(f"{name}: table printed", "best" in r.stdout and "peak RSS" in r.stdout, r.stdout)

        # The TorchScript run: LibTorch's profiler sees its operators (native fp32 runs kernels of our own).
        r = bench(
            "--model",
            args.model,
            "--batch-sizes",
            "1,8",
            "--repeats",
            "1",
            "--images",
            "32",
            "--profile",
            "--json",
            report,
        )
        profiles = json.loads(report.read_text()).get("profiles", []) if r.returncode == 0 else []
        expect(
            "--profile: one per-operator table per batch size, convolutions counted, times within the call's",
            [x["batch_size"] for x in profiles] == [1, 8]
            and all(
                sum(o["calls_per_forward"] for o in x["ops"] if "conv" in o["op"]) == 9
                and 0 < sum(o["us_per_forward"] for o in x["ops"]) <= 1.01 * x["us_per_forward"]
                for x in profiles
            )
            and r.stdout.count("(between operators)") == 2,
            r.stderr + r.stdout,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
