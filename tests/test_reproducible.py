#!/usr/bin/env python3
"""Same command, same bytes, whatever instructions the float kernels use.

resnet8-ptq runs once as is and once with LibTorch's float and quantized kernels forced down to AVX2
(ONEDNN_MAX_CPU_ISA, ATEN_CPU_CAPABILITY, MKL_CBWR, FBGEMM_ENABLE_INSTRUCTIONS), which is what an AVX2-only
CPU runs. Both must write byte-identical files: the .tflite, every generated C file, the ONNX file (8-bit
activations only) and the same plan in the JSON, for the defaults and for --weight-bits 4 --best (AdaRound,
fewer iterations than the default to keep the test short; the same code path). On an AVX-512 CPU the forcing
changes the float arithmetic (the test prints whether fp32 scores differ); on an AVX2-only CPU it changes
nothing and the test checks that two runs agree.
"""

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cli_check import expect, finish

FORCED = {
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_CBWR": "AVX2",
    "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2",
}

CASES = {
    "defaults": ["--onnx", "{d}/q.onnx"],
    "4-bit --best": ["--weight-bits", "4", "--best", "--adaround-iterations", "1000"],
}


def quantize(ptq, data, model, out, extra, forced):
    env = {**os.environ, **(FORCED if forced else {})}
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
                differ = same_files(*dirs)
                expect(f"{name}: identical .tflite, C, ONNX and plan, as is and forced to AVX2", not differ, differ)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
