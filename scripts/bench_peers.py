#!/usr/bin/env python3
"""Speed of every ResNet8 deployment path, measured side by side in one run on this machine.

Paths: the C++ tools (resnet8-bench: fp32 TorchScript, fp32 native, int8 TorchScript, int8 native on the engine the
loader picks and on fbgemm; the .tflite resnet8-ptq --tflite writes from the same plan and the MLPerf Tiny
reference .tflite, on the x86 kernels and on the portable C), ONNX Runtime CPU (fp32; int8 QDQ from its own
quantize_static on the same 1,000 calibration images as resnet8-ptq; and the ONNX QDQ file resnet8-ptq --onnx
writes from the same plan as the C++ int8 file, so that the two int8 rows differ only by runtime), OpenVINO (CPU,
LATENCY hint) on the fp32 ONNX file and on resnet8-ptq's QDQ file, LiteRT
(ai-edge-litert, XNNPACK) on both .tflite files, and PyTorch in Python (eager and TorchScript). Same weights
everywhere, real CIFAR-10 test images, uint8 -> float conversion included in the timing. Each round measures every
path once at every batch size (interleaved, so machine noise hits all alike); the median of the rounds is reported,
with each path's ratio to ONNX Runtime fp32 at the best batch size of each.

Writes a Markdown table to stdout, the raw numbers as JSON and a PNG plot (images/s vs batch size).
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


def time_python(run, images, batch, count, threads, calls=None):
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--data", type=Path, default=REPO / "data" / "cifar-10-batches-bin")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--images", type=int, default=2000, help="images per measurement")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-sizes", default="1,32,256,1000")
    ap.add_argument("--out", type=Path, default=REPO / "docs", help="where bench_peers.json/.png go")
    args = ap.parse_args()
    batches = [int(b) for b in args.batch_sizes.split(",")]
    missing = [m for m in ("onnxruntime", "onnx", "ai_edge_litert", "openvino", "matplotlib") if not find_spec(m)]
    if missing:
        die(f"bench_peers: missing {', '.join(missing)}; .venv/bin/pip install -r scripts/requirements-peers.txt")
    keep_freed_memory()

    import onnxruntime as ort
    import torch

    torch.set_num_threads(args.threads)
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
            str(args.threads),
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

    sessions = {
        name: ort_session(p, args.threads)
        for name, p in [
            ("ONNX Runtime fp32", onnx_fp32),
            ("ONNX Runtime int8 QDQ", onnx_int8),
            ("ONNX Runtime int8 (resnet8-ptq --onnx)", int8_onnx),
        ]
    }
    scripted = torch.jit.load(str(fp32_pt)).eval()
    images = test_set(args.data)[0]

    def ort_runner(sess):
        return lambda x: sess.run(None, {"x": x})[0].argmax(1)

    def torch_runner(m):
        def run(x):
            with torch.inference_mode():
                return m(torch.from_numpy(x)).argmax(1)

        return run

    python_paths = {
        "ONNX Runtime fp32": ort_runner(sessions["ONNX Runtime fp32"]),
        "ONNX Runtime int8 QDQ": ort_runner(sessions["ONNX Runtime int8 QDQ"]),
        "ONNX Runtime int8 (resnet8-ptq --onnx)": ort_runner(sessions["ONNX Runtime int8 (resnet8-ptq --onnx)"]),
        "OpenVINO fp32 (ONNX, LATENCY hint)": openvino_runner(onnx_fp32, args.threads),
        "OpenVINO int8 (resnet8-ptq --onnx, LATENCY hint)": openvino_runner(int8_onnx, args.threads),
        "LiteRT (XNNPACK), resnet8-ptq --tflite": litert_runner(int8_tflite, args.threads),
        "LiteRT (XNNPACK), MLPerf reference .tflite": litert_runner(mlperf_tflite, args.threads),
        "PyTorch eager (Python)": torch_runner(model),
        "PyTorch TorchScript (Python)": torch_runner(scripted),
    }
    cpp_paths = {
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
    results = {name: {b: [] for b in batches} for name in list(cpp_paths) + list(python_paths)}
    latency = {}

    for r in range(args.rounds):
        say(f"round {r + 1}/{args.rounds}")
        for name, flags in cpp_paths.items():
            with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
                subprocess.run(
                    [
                        str(bench),
                        *flags,
                        "--data",
                        str(args.data),
                        "--batch-sizes",
                        args.batch_sizes,
                        "--threads",
                        str(args.threads),
                        "--repeats",
                        "1",
                        "--images",
                        str(args.images),
                        "--json",
                        tmp.name,
                    ],
                    check=True,
                    capture_output=True,
                )
                for row in json.loads(Path(tmp.name).read_text())["results"]:
                    results[name][row["batch_size"]].append(row["images_per_second"])
                    if "latency_ms" in row:
                        latency.setdefault(name, []).append(row["latency_ms"]["p50"])
        for name, run in python_paths.items():
            for b in batches:
                count = -(-args.images // b) * b
                calls = [] if b == 1 else None
                results[name][b].append(time_python(run, images, b, count, args.threads, calls))
                if calls:
                    latency.setdefault(name, []).append(float(np.median(calls)) * 1e3)

    med = {n: {b: float(np.median(v)) for b, v in per.items()} for n, per in results.items()}
    best = {n: max(per.items(), key=lambda kv: kv[1]) for n, per in med.items()}
    ref = best["ONNX Runtime fp32"][1]
    print(f"\nCPU flags: {' '.join(cpu_flags()) or 'unknown'}")
    print(
        f"images/s, median of {args.rounds} interleaved rounds, {args.threads} threads, "
        f"{args.images} images per measurement\n"
    )
    print("| path | " + " | ".join(f"batch {b}" for b in batches) + " | best | × ORT fp32 (best vs best) |")
    print("|---|" + "---|" * (len(batches) + 2))
    for n in med:
        cells = " | ".join(f"{med[n][b]:,.0f}" for b in batches)
        print(f"| {n} | {cells} | {best[n][1]:,.0f} (batch {best[n][0]}) | {best[n][1] / ref:.2f}× |")
    for n, v in latency.items():
        print(f"\n{n}: batch-1 latency p50 {np.median(v):.3f} ms (median over rounds)", end="")
    print()

    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "cpu_flags": cpu_flags(),
        "threads": args.threads,
        "rounds": args.rounds,
        "images": args.images,
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
        "ai_edge_litert": importlib.metadata.version("ai-edge-litert"),
        "openvino": importlib.metadata.version("openvino"),
        "median_images_per_second": med,
        "runs": results,
        "batch1_latency_p50_ms": {n: float(np.median(v)) for n, v in latency.items()},
    }
    write_atomic(args.out / "bench_peers.json", (json.dumps(meta, indent=1) + "\n").encode())

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for n in med:
        ax.plot(
            batches, [med[n][b] for b in batches], marker="o", label=n, linestyle="-" if n.startswith("C++") else "--"
        )
    ax.set_xscale("log")
    ax.set_xticks(batches, [str(b) for b in batches])
    ax.set_xlabel("batch size")
    ax.set_ylabel("images/s (median)")
    ax.set_title(f"ResNet8 on CIFAR-10, {args.threads} threads, CPU")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    write_atomic(args.out / "bench_peers.png", buf.getvalue())
    say(f"wrote {args.out / 'bench_peers.json'} and {args.out / 'bench_peers.png'}")


if __name__ == "__main__":
    sys.exit(main())
