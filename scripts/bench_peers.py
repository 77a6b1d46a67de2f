#!/usr/bin/env python3
"""Speed of every ResNet8 deployment path, measured side by side in one run on this machine, each at its best
thread count.

Paths: the C++ tools (resnet8-bench: fp32 TorchScript, fp32 native, int8 TorchScript, int8 native on the engine the
loader picks and on fbgemm; the .tflite resnet8-ptq --tflite writes from the same plan and the MLPerf Tiny
reference .tflite, on the x86 kernels and on the portable C), ONNX Runtime CPU (fp32; int8 QDQ from its own
quantize_static on the same 1,000 calibration images as resnet8-ptq; and the ONNX QDQ file resnet8-ptq --onnx
writes from the same plan as the C++ int8 file, so that the two int8 rows differ only by runtime), OpenVINO (CPU,
LATENCY hint) on the fp32 ONNX file and on resnet8-ptq's QDQ file, LiteRT
(ai-edge-litert, XNNPACK) on both .tflite files, and PyTorch in Python (eager and TorchScript). Same weights
everywhere, real CIFAR-10 test images, uint8 -> float conversion included in the timing. Each round measures every
path once at every batch size and thread count (--threads, default 1,2; interleaved, so machine noise hits all
alike); the median of the rounds is reported. Two tables: batch-1 latency (p50 and p90 of the calls) at each path's
best thread count, and images/s at each batch size at the best thread count for it, with each path's ratio to ONNX
Runtime fp32 at the best batch size of each.

Writes the Markdown tables to stdout, the raw numbers as JSON and a PNG plot (images/s vs batch size).
Needs: build/ (scripts/setup.sh), data/resnet8_fp32.pt, and the PyPI packages in
scripts/requirements-peers.txt. The int8 files are written afresh by resnet8-ptq (defaults) into data/peers/.
"""

import argparse
import ctypes
import importlib.metadata
import io
import json
import subprocess
import sys
import tempfile
import time
import warnings
from importlib.util import find_spec
from pathlib import Path

import numpy as np
from common import REPO, die, say, write_atomic
from onnx_peer import calibration_indices, export_onnx, ort_session, python_model, quantize_onnx, test_set, train_images

warnings.filterwarnings("ignore")


def keep_freed_memory():
    """The same glibc settings the C++ tools use (M_MMAP_MAX=0, M_TRIM_THRESHOLD=1 GiB), so PyTorch in
    Python is not slowed by re-faulting its activations each batch. ONNX Runtime has its own arena."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-4, 0)
        libc.mallopt(-1, 1 << 30)
    except OSError:
        pass


def time_python(run, images, batch, count, calls=None):
    """images/s of one pass of `count` images (after a short warm-up), conversion included; each call's
    seconds appended to `calls` if given (for batch-1 latency)."""
    n = len(images) - batch + 1
    run(images[:batch].astype(np.float32))
    start = time.perf_counter()
    for done in range(0, count, batch):
        b = done % n
        t = time.perf_counter()
        run(images[b : b + batch].astype(np.float32))
        if calls is not None:
            calls.append(time.perf_counter() - t)
    return count / (time.perf_counter() - start)


def litert_runner(path, threads):
    """LiteRT's interpreter (XNNPACK) on an int8 .tflite: float 0..255 pixels quantized as its input says,
    the batch dimension resized to each batch's size."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path), num_threads=threads)
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    scale, zero = inp["quantization"]
    shape = [0]

    def run(x):
        if shape[0] != len(x):
            it.resize_tensor_input(inp["index"], [len(x), *inp["shape"][1:]])
            it.allocate_tensors()
            shape[0] = len(x)
        it.set_tensor(inp["index"], np.clip(np.round(x / scale) + zero, -128, 127).astype(np.int8))
        it.invoke()
        return it.get_tensor(out["index"]).argmax(1)

    return run


def openvino_runner(path, threads):
    """OpenVINO (CPU plugin, LATENCY hint) on an ONNX file: compiled once per batch size, on first use. Float
    parts in f32: by default OpenVINO computes them in bf16 on CPUs with AVX-512 BF16 (87.01 % instead of 87.19 %
    for the fp32 file on the VNNI EPYC), which is not the model's arithmetic."""
    import openvino as ov

    core = ov.Core()
    compiled = {}

    def run(x):
        if len(x) not in compiled:
            model = core.read_model(str(path))
            model.reshape([len(x), *x.shape[1:]])
            config = {
                "PERFORMANCE_HINT": "LATENCY",
                "INFERENCE_NUM_THREADS": threads,
                "INFERENCE_PRECISION_HINT": "f32",
            }
            compiled[len(x)] = core.compile_model(model, "CPU", config).create_infer_request()
        request = compiled[len(x)]
        return request.infer([x])[0].argmax(1)

    return run


def cpu_flags():
    """The flags that decide the int8 kernels, as the README's figures name them."""
    try:
        words = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return []
    return sorted(words & {"avx2", "avx512f", "avx512_vnni"})


def python_runners(threads, model, scripted, onnx_fp32, onnx_int8, int8_onnx, int8_tflite, mlperf_tflite):
    """The Python-side paths, each set up for `threads` threads (PyTorch's count is set before its runs)."""
    import torch

    def ort_runner(path):
        sess = ort_session(path, threads)
        return lambda x: sess.run(None, {"x": x})[0].argmax(1)

    def torch_runner(m):
        def run(x):
            with torch.inference_mode():
                return m(torch.from_numpy(x)).argmax(1)

        return run

    return {
        "ONNX Runtime fp32": ort_runner(onnx_fp32),
        "ONNX Runtime int8 QDQ": ort_runner(onnx_int8),
        "ONNX Runtime int8 (resnet8-ptq --onnx)": ort_runner(int8_onnx),
        "OpenVINO fp32 (ONNX, LATENCY hint)": openvino_runner(onnx_fp32, threads),
        "OpenVINO int8 (resnet8-ptq --onnx, LATENCY hint)": openvino_runner(int8_onnx, threads),
        "LiteRT (XNNPACK), resnet8-ptq --tflite": litert_runner(int8_tflite, threads),
        "LiteRT (XNNPACK), MLPerf reference .tflite": litert_runner(mlperf_tflite, threads),
        "PyTorch eager (Python)": torch_runner(model),
        "PyTorch TorchScript (Python)": torch_runner(scripted),
    }


def cpp_runs(fp32_pt, int8_pt, int8_tflite, mlperf_tflite):
    """resnet8-bench's flags for each C++ path."""
    return {
        "C++ fp32 TorchScript": ["--model", str(fp32_pt)],
        "C++ fp32 native": ["--model", str(fp32_pt), "--native"],
        "C++ int8 (resnet8-ptq)": ["--model", str(int8_pt)],
        "C++ int8 native (resnet8-ptq, --native)": ["--model", str(int8_pt), "--native"],
        # fbgemm: the fastest engine at batch 1 without VNNI (onednn's per-call set-up dominates there)
        "C++ int8 native, fbgemm (--native --engine fbgemm)": [
            "--model",
            str(int8_pt),
            "--native",
            "--engine",
            "fbgemm",
        ],
        # The .tflite path: TFLM's arithmetic, bit for bit (x86 kernels; one image on two cores at batch 1)
        "C++ .tflite (resnet8-ptq --tflite), x86 kernels": ["--model", str(int8_tflite)],
        "C++ MLPerf reference .tflite, x86 kernels": ["--model", str(mlperf_tflite)],
        "C++ .tflite, portable C kernels (--kernels reference)": [
            "--model",
            str(int8_tflite),
            "--kernels",
            "reference",
        ],
    }


def run_bench(bench, flags, args, threads):
    """One pass of resnet8-bench at every batch size: its JSON rows."""
    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        cmd = [str(bench), *flags, "--data", str(args.data), "--batch-sizes", args.batch_sizes]
        cmd += ["--threads", str(threads), "--repeats", "1", "--images", str(args.images), "--json", tmp.name]
        subprocess.run(cmd, check=True, capture_output=True)
        return json.loads(Path(tmp.name).read_text())["results"]


def positive_list(text, flag):
    """Comma-separated positive integers, or one clear line and exit 2."""
    try:
        values = [int(x) for x in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        print(f"bench_peers: {flag} expects comma-separated positive integers, got {text!r}", file=sys.stderr)
        sys.exit(2)
    return values


def best_threads(per_threads, key):
    """(threads, value) with the largest key(value)."""
    return max(per_threads.items(), key=lambda kv: key(kv[1]))


def print_tables(med, lat, batches, args):
    """Batch-1 latency at each path's best thread count, then images/s, each cell the best thread count's."""
    print(f"\nCPU flags: {' '.join(cpu_flags()) or 'unknown'}")
    print(f"median of {args.rounds} interleaved rounds, threads {args.threads}, {args.images} images per measurement\n")
    if lat:
        print("| path | best threads at batch 1 | p50 ms | p90 ms | p50 ms at each thread count |")
        print("|---|---|---|---|---|")
        for n in sorted(lat, key=lambda n: min(v[0] for v in lat[n].values())):
            t, (p50, p90) = best_threads(lat[n], lambda v: -v[0])
            each = ", ".join(f"{k}: {v[0]:.3f}" for k, v in lat[n].items())
            print(f"| {n} | {t} | {p50:.3f} | {p90:.3f} | {each} |")
        print()
    best = {
        n: max(((t, b, v) for t, per in by_t.items() for b, v in per.items()), key=lambda x: x[2])
        for n, by_t in med.items()
    }
    ref = best["ONNX Runtime fp32"][2]
    print("images/s, each cell at the path's best thread count for that batch size (threads in brackets)\n")
    print("| path | " + " | ".join(f"batch {b}" for b in batches) + " | best | × ORT fp32 (best vs best) |")
    print("|---|" + "---|" * (len(batches) + 2))
    for n, by_t in med.items():
        cells = []
        for b in batches:
            t, v = best_threads({t: per[b] for t, per in by_t.items()}, lambda v: v)
            cells.append(f"{v:,.0f} ({t})")
        t, b, v = best[n]
        print(f"| {n} | {' | '.join(cells)} | {v:,.0f} (batch {b}, {t} thr) | {v / ref:.2f}× |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--data", type=Path, default=REPO / "data" / "cifar-10-batches-bin")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--images", type=int, default=2000, help="images per measurement")
    ap.add_argument(
        "--threads", default="1,2", help="comma-separated thread counts; each path is reported at its best of them"
    )
    ap.add_argument("--batch-sizes", default="1,32,256,1000")
    ap.add_argument("--out", type=Path, default=REPO / "docs", help="where bench_peers.json/.png go")
    args = ap.parse_args()
    batches, threads = positive_list(args.batch_sizes, "--batch-sizes"), positive_list(args.threads, "--threads")
    missing = [m for m in ("onnxruntime", "onnx", "ai_edge_litert", "openvino", "matplotlib") if not find_spec(m)]
    if missing:
        die(f"bench_peers: missing {', '.join(missing)}; .venv/bin/pip install -r scripts/requirements-peers.txt")
    keep_freed_memory()

    import onnxruntime as ort
    import torch

    fp32_pt = REPO / "data" / "resnet8_fp32.pt"
    bench = args.build / "resnet8-bench"
    for f in (fp32_pt, bench):
        if not f.exists():
            die(f"{f} not found: run scripts/run.sh first")
    cache = REPO / "data" / "peers"
    cache.mkdir(parents=True, exist_ok=True)
    int8_pt, int8_onnx = cache / "resnet8_int8.pt", cache / "resnet8_int8_ptq.onnx"
    int8_tflite, mlperf_tflite = cache / "resnet8_int8.tflite", REPO / "data" / "pretrainedResnet_quant.tflite"
    if not mlperf_tflite.exists():
        die(f"{mlperf_tflite} not found: run scripts/run.sh first")
    say("resnet8-ptq (defaults) --onnx --tflite: the C++ int8 file and its ONNX and TFLite exports from one plan ...")
    subprocess.run(
        [
            str(args.build / "resnet8-ptq"),
            "--data",
            str(args.data),
            "--no-eval",
            "--output",
            str(int8_pt),
            "--onnx",
            str(int8_onnx),
            "--tflite",
            str(int8_tflite),
            "--threads",
            str(max(threads)),
        ],
        check=True,
        capture_output=True,
    )

    # Same calibration images as resnet8-ptq's defaults (its JSON lists their indices).
    indices = calibration_indices(args.build, args.data, cache)

    model = python_model()
    onnx_fp32, onnx_int8 = cache / "resnet8_fp32.onnx", cache / "resnet8_int8_qdq.onnx"
    say("exporting ONNX and quantizing it with ONNX Runtime (QDQ, U8 activations / S8 weights, MinMax) ...")
    export_onnx(model, onnx_fp32)
    quantize_onnx(onnx_fp32, onnx_int8, train_images(args.data, indices))

    scripted = torch.jit.load(str(fp32_pt)).eval()
    images = test_set(args.data)[0]
    python_paths = {
        t: python_runners(t, model, scripted, onnx_fp32, onnx_int8, int8_onnx, int8_tflite, mlperf_tflite)
        for t in threads
    }
    cpp_paths = cpp_runs(fp32_pt, int8_pt, int8_tflite, mlperf_tflite)
    names = list(cpp_paths) + list(python_paths[threads[0]])
    # results[name][threads][batch]: images/s of each round; latency[name][threads]: (p50, p90) ms of each round
    results = {n: {t: {b: [] for b in batches} for t in threads} for n in names}
    latency = {n: {t: [] for t in threads} for n in names}

    for r in range(args.rounds):
        say(f"round {r + 1}/{args.rounds}")
        for t in threads:
            for name, flags in cpp_paths.items():
                for row in run_bench(bench, flags, args, t):
                    results[name][t][row["batch_size"]].append(row["images_per_second"])
                    if "latency_ms" in row:
                        latency[name][t].append((row["latency_ms"]["p50"], row["latency_ms"]["p90"]))
            torch.set_num_threads(t)
            for name, run in python_paths[t].items():
                for b in batches:
                    count = -(-args.images // b) * b
                    calls = [] if b == 1 else None
                    results[name][t][b].append(time_python(run, images, b, count, calls))
                    if calls:
                        latency[name][t].append(tuple(float(np.percentile(calls, q)) * 1e3 for q in (50, 90)))

    med = {
        n: {t: {b: float(np.median(v)) for b, v in per.items()} for t, per in by_t.items()}
        for n, by_t in results.items()
    }
    lat = {
        n: {t: tuple(float(np.median([x[i] for x in v])) for i in (0, 1)) for t, v in by_t.items() if v}
        for n, by_t in latency.items()
        if any(by_t.values())  # batch 1 measured
    }
    print_tables(med, lat, batches, args)

    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "cpu_flags": cpu_flags(),
        "threads": threads,
        "rounds": args.rounds,
        "images": args.images,
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
        "ai_edge_litert": importlib.metadata.version("ai-edge-litert"),
        "openvino": importlib.metadata.version("openvino"),
        "median_images_per_second": med,  # [path][threads][batch]
        "runs": results,
        "batch1_latency_ms": {n: {t: {"p50": v[0], "p90": v[1]} for t, v in by_t.items()} for n, by_t in lat.items()},
    }
    write_atomic(args.out / "bench_peers.json", (json.dumps(meta, indent=1) + "\n").encode())

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for n in med:
        ax.plot(
            batches,
            [max(per[b] for per in med[n].values()) for b in batches],
            marker="o",
            label=n,
            linestyle="-" if n.startswith("C++") else "--",
        )
    ax.set_xscale("log")
    ax.set_xticks(batches, [str(b) for b in batches])
    ax.set_xlabel("batch size")
    ax.set_ylabel("images/s (median, at the best thread count)")
    ax.set_title(f"ResNet8 on CIFAR-10, threads {args.threads}, CPU")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    write_atomic(args.out / "bench_peers.png", buf.getvalue())
    say(f"wrote {args.out / 'bench_peers.json'} and {args.out / 'bench_peers.png'}")


if __name__ == "__main__":
    sys.exit(main())
