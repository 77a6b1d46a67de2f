#!/usr/bin/env python3
"""Same command, same bytes, whatever CPU runs it (docs/QUANTIZATION.md, "Same command, same bytes").

resnet8-ptq pins its float kernels (engine/float_kernels.h). Checked here:
  - the pin holds: the tool reports ATen at AVX2; MKL's own log shows every GEMM in COMPATIBLE,STRICT mode;
    oneDNN's log shows no float convolution while the file is made;
  - resnet8-ptq runs once as is and once with the kernels it does not pin forced down to AVX2
    (ONEDNN_MAX_CPU_ISA, FBGEMM_ENABLE_INSTRUCTIONS), as an AVX2-only CPU runs them. Both must write
    byte-identical files: the .tflite, every generated C file, the ONNX file (8-bit activations only) and the
    same plan in the JSON, for the defaults and for --weight-bits 4 --best (AdaRound; fewer calibration images
    and iterations than the defaults to keep the test short, the same code path);
  - each case's .tflite and generated model C (resnet8_model.c/.h; the kernel files beside them are
    copies of src/micro/) have the SHA-256 recorded in tests/reproducible.sha256, so a run on
    another CPU kind that writes other bytes fails (the defaults were recorded on the AVX-512 VNNI EPYC and
    matched on the AVX2-only EPYC; the 4-bit case was recorded on the AVX2-only EPYC, again when low-bit plans
    took 7-bit first and last layers). Update the record only
    when the quantization is changed on purpose, and say so in the commit.
"""

import argparse
import filecmp
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cli_check import expect, finish

FORCED = {"ONEDNN_MAX_CPU_ISA": "AVX2", "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2"}
# The kernels' own logs, for the run as is: MKL prints each GEMM's reproducibility mode, oneDNN each primitive.
VERBOSE = {"MKL_VERBOSE": "1", "ONEDNN_VERBOSE": "1"}
RECORD = Path(__file__).with_name("reproducible.sha256")

CASES = {
    "defaults": ["--onnx", "{d}/q.onnx"],
    # 200 calibration images and 300 AdaRound iterations keep it short (the layer statistics, in double with
    # MKL in its COMPATIBLE mode, dominate); the same code path as the defaults' 1,000 images and 10,000 steps.
    "4-bit --best": ["--weight-bits", "4", "--best", "--calib-per-class", "20", "--adaround-iterations", "300"],
}


def quantize(ptq, data, model, out, extra, forced):
    env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "MKL_CBWR")}
    env.update(FORCED if forced else VERBOSE)
    out.mkdir(parents=True)
    args = [ptq, "--data", data, "--model", model, "--no-eval", "--threads", "2", "-o", out / "q.pt"]
    args += ["--tflite", out / "q.tflite", "--c-source", out / "c", "--json", out / "q.json"]
    args += [a.format(d=out) for a in extra]
    return subprocess.run(list(map(str, args)), capture_output=True, text=True, env=env, timeout=1200)


def same_files(a, b):
    """Names of the files that differ or exist on one side only (the .pt records paths and times: left out)."""
    names = {p.relative_to(d) for d in (a, b) for p in d.rglob("*") if p.is_file()}
    differ = []
    for name in sorted(names):
        if name.suffix in (".pt", ".json"):
            continue
        if not (a / name).exists() or not (b / name).exists() or not filecmp.cmp(a / name, b / name, shallow=False):
            differ.append(str(name))
    plan_a = json.loads((a / "q.json").read_text())["ptq"]["plan"]
    plan_b = json.loads((b / "q.json").read_text())["ptq"]["plan"]
    if plan_a != plan_b:
        differ.append("q.json: ptq.plan")
    return differ


def check_pin(name, stdout):
    """The run as is: ATen at AVX2 (the tool's line), every MKL GEMM in COMPATIBLE,STRICT, no f32 oneDNN conv."""
    float_line = next((line for line in stdout.splitlines() if line.startswith("float ")), "")
    expect(
        f"{name}: resnet8-ptq reports its float kernels pinned",
        "ATen AVX2" in float_line and "(pinned" in float_line,
        float_line or "no 'float' line",
    )
    gemms = [line for line in stdout.splitlines() if line.startswith("MKL_VERBOSE") and "GEMM" in line]
    modes = {line.split("CNR:")[1].split()[0] for line in gemms if "CNR:" in line}
    expect(
        f"{name}: {len(gemms)} MKL GEMM calls, all in COMPATIBLE,STRICT",
        gemms and modes == {"COMPATIBLE,STRICT"},
        f"modes seen: {sorted(modes)}",
    )
    convs = [
        line
        for line in stdout.splitlines()
        if "onednn_verbose" in line and ",exec," in line and "convolution" in line and "src:f32" in line
    ]
    expect(f"{name}: no float convolution in oneDNN", not convs, convs[:2])


def check_record(name, directory):
    """A case's .tflite and model C files against tests/reproducible.sha256 (its lines `<case>/<file>`)."""
    case = name.replace(" ", "_") + "/"
    lines = [line.split() for line in RECORD.read_text().splitlines() if line.strip()]
    recorded = {f.removeprefix(case): h for h, f in lines if f.startswith(case)}
    files = [directory / "q.tflite", *sorted((directory / "c").glob("resnet8_model.*"))]
    written = {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.exists()}
    differ = sorted(n for n in recorded.keys() | written.keys() if recorded.get(n) != written.get(n))
    expect(
        f"{name}: {len(written)} files with the SHA-256 recorded in {RECORD.name}",
        not differ,
        "\n".join(f"{n}: recorded {recorded.get(n)}, written {written.get(n)}" for n in differ),
    )


def fp32_scores_differ(eval_tool, data, model, tmp):
    outs = []
    for forced in (False, True):
        path = tmp / f"fp32_{forced}.txt"
        env = {**os.environ, **(FORCED if forced else {})}
        args = [eval_tool, "-m", model, "--data", data, "--limit", "200", "--threads", "2", "--scores", path]
        subprocess.run(list(map(str, args)), capture_output=True, env=env, check=True, timeout=600)
        outs.append(path.read_bytes())
    return outs[0] != outs[1]


def main():
    ap = argparse.ArgumentParser()
    for flag in ("ptq", "eval", "data", "model"):
        ap.add_argument(f"--{flag}", required=True, type=Path)
    args = ap.parse_args()
    flags = set(Path("/proc/cpuinfo").read_text().split()) if Path("/proc/cpuinfo").exists() else set()
    print(f"CPU flags: {' '.join(sorted(flags & {'avx2', 'avx512f', 'avx512_vnni', 'amx_int8'}))}")
    with tempfile.TemporaryDirectory(prefix="resnet8-repro-") as tmp:
        tmp = Path(tmp)
        differs = fp32_scores_differ(args.eval, args.data, args.model, tmp)
        print(f"fp32 scores with the kernels forced to AVX2: {'different' if differs else 'identical'} bits")
        for name, extra in CASES.items():
            dirs = [tmp / name.replace(" ", "_") / kind for kind in ("native", "forced")]
            results = [quantize(args.ptq, args.data, args.model, d, extra, forced) for d, forced in zip(dirs, (0, 1))]
            ok = all(r.returncode == 0 for r in results)
            expect(f"{name}: both runs succeed", ok, "\n".join(r.stderr for r in results))
            if ok:
                check_pin(name, results[0].stdout)
                check_record(name, dirs[0])
                differ = same_files(*dirs)
                expect(f"{name}: identical .tflite, C, ONNX and plan, as is and forced to AVX2", not differ, differ)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
