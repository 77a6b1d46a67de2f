"""What the playground (quantization.py) computes outside its cells: the model files it finds, their
summaries (read as data: an int8 file's recorded metadata, a .tflite's tensors), the C++ tools it runs
with --json (resnet8-eval, resnet8-analyze, resnet8-ptq), and the small arithmetic of its views
(quantization error of a weight tensor at a clipping range, a Graphviz picture of a plan).

Every failure a user can cause (a missing build, missing data, an unreadable file, a tool's refusal) is a
PlaygroundError with one sentence the app shows as it is."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("RESNET8_BUILD_DIR", REPO / "build"))
if not BUILD.is_absolute():
    BUILD = REPO / BUILD
DATA = REPO / "data"
CIFAR = DATA / "cifar-10-batches-bin"
FP32 = DATA / "resnet8_fp32.pt"
WORK = BUILD / "playground"  # what the playground writes: evaluations, reports, files
LAYERS = [
    "stem.conv",
    "stack1.conv1",
    "stack1.conv2",
    "stack2.conv1",
    "stack2.conv2",
    "stack2.shortcut",
    "stack3.conv1",
    "stack3.conv2",
    "stack3.shortcut",
    "fc",
]
MODEL_SUFFIXES = (".pt", ".onnx", ".tflite")


class PlaygroundError(Exception):
    """Something the user can fix, said in one sentence."""


def missing_setup():
    """What is missing for the tools to run, as sentences (empty when all is there)."""
    out = []
    for tool in ("resnet8-eval", "resnet8-ptq", "resnet8-analyze"):
        if not (BUILD / tool).exists():
            out.append(f"{BUILD / tool} is not built: run scripts/setup.sh (scripts/playground.sh does).")
    if not (CIFAR / "test_batch.bin").exists():
        out.append(f"CIFAR-10 is not in {CIFAR}: run scripts/setup.sh.")
    if not FP32.exists():
        out.append(f"The fp32 export {FP32} is missing: run scripts/setup.sh.")
    return out


def model_files(*folders):
    """The model files (.pt, .onnx, .tflite) in the folders and their subfolders, one level deep."""
    found = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for path in sorted(list(folder.glob("*")) + list(folder.glob("*/*"))):
            if path.suffix in MODEL_SUFFIXES and path.is_file() and path not in found:
                found.append(path)
    return found


def ptq_metadata(path):
    """The metadata resnet8-ptq records in an int8 file (extra/resnet8_ptq.json), or None (an fp32 export or
    a foreign TorchScript file). Read from the zip as data: nothing in the file runs."""
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith("extra/resnet8_ptq.json")]
            return json.loads(z.read(names[0])) if names else None
    except (zipfile.BadZipFile, OSError, json.JSONDecodeError, KeyError) as e:
        raise PlaygroundError(f"{path}: not a readable TorchScript file ({e}).") from e


def tflite_schema():
    sys.path.insert(0, str(Path(__import__("ai_edge_litert").__file__).parent))
    import schema_py_generated

    return schema_py_generated


def tflite_tensors(path):
    """A .tflite's constant weight tensors as {name: (shape, type name, scales, int values)}, read with the
    published schema (data only)."""
    s = tflite_schema()
    try:
        model = s.ModelT.InitFromObj(s.Model.GetRootAsModel(Path(path).read_bytes(), 0))
    except Exception as e:  # the generated reader raises whatever a damaged buffer makes it raise
        raise PlaygroundError(f"{path}: not a readable .tflite ({type(e).__name__}).") from e
    types = {v: k for k, v in vars(s.TensorType).items() if not k.startswith("_")}
    out = {}
    for t in model.subgraphs[0].tensors:
        data = model.buffers[t.buffer].data if t.buffer < len(model.buffers) else None
        kind = types.get(t.type, str(t.type))
        if data is None or kind not in ("INT8", "INT4") or len(t.shape) < 2:
            continue
        raw = np.asarray(data, dtype=np.uint8)
        if kind == "INT4":  # two a byte, the even element low
            lo, hi = (raw & 0x0F).astype(np.int16), (raw >> 4).astype(np.int16)
            values = np.stack([lo, hi], axis=1).reshape(-1)[: int(np.prod(t.shape))]
            values = np.where(values >= 8, values - 16, values)
        else:
            values = raw.view(np.int8).astype(np.int16)
        scales = list(t.quantization.scale) if t.quantization is not None and t.quantization.scale is not None else []
        out[t.name.decode()] = (list(t.shape), kind, scales, values)
    return out


def summary(path):
    """Size, kind and scheme of a model file, as {field: text}."""
    path = Path(path)
    if not path.is_file():
        raise PlaygroundError(f"{path}: no such file.")
    row = {"file": str(path), "size": f"{path.stat().st_size:,} B"}
    if path.suffix == ".pt":
        meta = ptq_metadata(path)
        if meta is None:
            row["kind"] = "fp32 TorchScript (no resnet8-ptq metadata: the fp32 export or a foreign file)"
            return row
        row["kind"] = f"int8 TorchScript, {meta.get('producer', '?')}, engine {meta.get('engine', '?')}"
        row["scheme"] = (
            f"w{meta.get('weight_bits')}a{meta.get('activation_bits')}, {meta.get('weights', '?')}, "
            f"weight range {meta.get('weight_range')}, observer {meta.get('observer')}"
        )
        methods = [
            m for m, on in (("CLE", meta.get("equalized")), ("bias correction", meta.get("bias_corrected"))) if on
        ]
        row["methods"] = ", ".join([f"rounding {meta.get('rounding')}", *methods])
        cal = meta.get("calibration", {})
        row["calibration"] = f"{cal.get('per_class', '?')} images per class, seed {cal.get('seed', '?')}"
        row["fp32 layers"] = ", ".join(meta.get("fp32_layers", [])) or "none"
    elif path.suffix == ".tflite":
        tensors = tflite_tensors(path)
        kinds = sorted({kind for _, kind, _, _ in tensors.values()})
        row["kind"] = "TFLite int8 (TensorFlow Lite Micro), read as data"
        row["scheme"] = f"{len(tensors)} weight tensors, {' and '.join(kinds)}"
    else:
        row["kind"] = "ONNX QDQ (ONNX Runtime)"
    return row


def run_tool(tool, *args, timeout=3600):
    """Runs build/TOOL with args; returns its stdout. A failure raises PlaygroundError with the tool's own
    error line."""
    exe = BUILD / tool
    if not exe.exists():
        raise PlaygroundError(f"{exe} is not built: run scripts/setup.sh.")
    r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=REPO)
    if r.returncode != 0:
        lines = [line for line in r.stderr.splitlines() if "error" in line] or r.stderr.strip().splitlines()[-1:]
        raise PlaygroundError(lines[0] if lines else f"{tool} failed with exit code {r.returncode}.")
    return r.stdout


def cache_name(tool, *parts):
    """A file name for what `tool` computed from `parts`: a rebuilt tool computes it again."""
    exe = BUILD / tool
    built = exe.stat().st_mtime_ns if exe.exists() else 0
    return hashlib.sha1("\0".join(map(str, (tool, built, *parts))).encode()).hexdigest()[:16]


def evaluation_file(path, images):
    """Where resnet8-eval's report of `path` (by file, size and modification time) is cached."""
    path = Path(path)
    st = path.stat()
    name = cache_name("resnet8-eval", path.resolve(), st.st_size, st.st_mtime_ns, images)
    return WORK / "evaluations" / f"{name}.json"


def cached_report(out, tool, *args):
    """The JSON report `tool` writes with `args` --json OUT, run only if OUT is not there yet."""
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        run_tool(tool, *args, "--json", out)
    return json.loads(out.read_text())


def evaluation(path, images=10000):
    """resnet8-eval's JSON report of a model file on the first `images` test images (cached)."""
    args = ("-m", path, "--data", CIFAR, "--limit", images, "--threads", "2")
    return cached_report(evaluation_file(path, images), "resnet8-eval", *args)


def cached_evaluation(path, images=10000):
    """The cached report if the file was evaluated, else None (nothing runs)."""
    out = evaluation_file(path, images)
    return json.loads(out.read_text()) if out.exists() else None


def report_for(path):
    """The resnet8-ptq --json report written beside an int8 file (FILE.json or FILE's stem .json), if it has
    the weights (--json-weights)."""
    path = Path(path)
    for candidate in (path.with_suffix(".json"), path.with_name(path.name + ".json")):
        if candidate.is_file():
            try:
                report = json.loads(candidate.read_text())
            except json.JSONDecodeError as e:
                raise PlaygroundError(f"{candidate}: not valid JSON ({e}).") from e
            if isinstance(report, dict) and "ptq" in report:
                return report
    return None


def plan_flags(s):
    """resnet8-ptq/resnet8-analyze flags of the what-if settings `s` (a dict of the controls' values)."""
    flags = ["--observer", s["observer"], "--weight-range", s["weight_range"], "--rounding", s["rounding"]]
    flags += ["--calib-per-class", s["calib_per_class"]]
    if s["rounding"] == "adaround":
        flags += ["--adaround-iterations", s["adaround_iterations"]]
    if s["equalize"]:
        flags.append("--equalize")
    if s["bias_correction"]:
        flags.append("--bias-correction")
    if s["fp32_layers"]:
        flags += ["--keep-float", ",".join(s["fp32_layers"])]
    if not s["per_channel"]:
        flags.append("--per-tensor")
    return flags


def what_if(s):
    """resnet8-analyze --sections what-if with the settings: the plan simulated beside fp32 (JSON)."""
    out = WORK / "what_if" / f"{cache_name('resnet8-analyze', json.dumps(s, sort_keys=True))}.json"
    return cached_report(out, "resnet8-analyze", "--model", FP32, "--data", CIFAR, "--sections", "what-if",
                         "--threads", "2", "--what-if", f"w{s['weight_bits']}a{s['activation_bits']}",
                         "--limit", s["test_images"], *plan_flags(s))["what_if"]  # fmt: skip


def sensitivity(config, test_images, calib_per_class):
    """resnet8-analyze's per-layer sensitivity and mixed-precision search at `config` (e.g. w4a8)."""
    out = WORK / "sensitivity" / f"{cache_name('resnet8-analyze', config, test_images, calib_per_class)}.json"
    return cached_report(out, "resnet8-analyze", "--model", FP32, "--data", CIFAR, "--sections", "sensitivity,mixed",
                         "--threads", "2", "--sensitivity", config, "--mixed", config, "--limit", test_images,
                         "--calib-per-class", calib_per_class)  # fmt: skip


def write_real_file(s, name):
    """resnet8-ptq with the settings: build/playground/files/NAME.pt with its --json report (weights
    included), .onnx, and .tflite where TFLite can hold the plan; evaluated on the test set. Returns the
    paths written and the tool's output."""
    folder = WORK / "files"
    folder.mkdir(parents=True, exist_ok=True)
    pt = folder / f"{name}.pt"
    args = ["--model", FP32, "--data", CIFAR, "--threads", "2", "-o", pt, "--json", pt.with_suffix(".json"),
            "--json-weights", "--weight-bits", s["weight_bits"], "--onnx", pt.with_suffix(".onnx")]  # fmt: skip
    if s["activation_bits"] != 8:
        args += ["--activation-bits", s["activation_bits"]]
    if s["activation_bits"] >= 7 and not s["fp32_layers"]:
        args += ["--tflite", pt.with_suffix(".tflite")]
    stdout = run_tool("resnet8-ptq", *args, *plan_flags(s))
    written = [
        p for p in (pt, pt.with_suffix(".onnx"), pt.with_suffix(".tflite"), pt.with_suffix(".json")) if p.exists()
    ]
    return written, stdout


# The arithmetic of the views.


def quantize(w, scale, bits):
    """Symmetric quantization of `w` at `scale` (per channel along axis 0 or one): (integers, dequantized)."""
    q_max = 2 ** (bits - 1) - 1
    scale = np.asarray(scale, dtype=np.float64).reshape((-1,) + (1,) * (w.ndim - 1))
    q = np.clip(np.round(w / scale), -q_max, q_max)
    return q, q * scale


def sqnr_db(w, w_hat):
    """Signal to quantization noise, dB (inf for an exact copy)."""
    noise = float(np.sum((w - w_hat) ** 2))
    return float("inf") if noise == 0 else 10 * np.log10(float(np.sum(w**2)) / noise)


def per_channel_sqnr(w, w_hat):
    return [sqnr_db(w[c], w_hat[c]) for c in range(w.shape[0])]


def clipped(w, lo, hi, bits):
    """The weights clipped to [lo, hi] and quantized per tensor at that range (the seed's clipping view):
    (dequantized, scale)."""
    scale = max(abs(lo), abs(hi)) / (2 ** (bits - 1) - 1)
    if scale <= 0:
        return np.zeros_like(w), 0.0
    _, w_hat = quantize(np.clip(w, lo, hi), scale, bits)
    return w_hat, scale


def histogram_rows(values, bins, label, lo=None, hi=None):
    """Histogram bars as rows for a chart (never more than `bins` rows, whatever the tensor's size)."""
    lo = float(np.min(values)) if lo is None else lo
    hi = float(np.max(values)) if hi is None else hi
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi if hi > lo else lo + 1))
    return [
        {"from": float(a), "to": float(b), "count": int(c), "series": label}
        for a, b, c in zip(edges, edges[1:], counts)
    ]


def plan_dot(plan):
    """The plan's network as Graphviz dot: every node with its activation point's bits, scale and zero
    point; layers with their weight bits and scale range; fp32 layers marked."""
    points = {a["point"]: a for a in plan["activations"]}
    layers = {layer["layer"]: layer for layer in plan["layers"]}
    lines = ["digraph plan {", '  rankdir=TB; node [shape=box, fontname="Helvetica", fontsize=10];']
    for node in plan["graph"]:
        name, kind = node["name"], node["kind"]
        label = [f"{name} ({kind}{' + relu' if node.get('relu') else ''})"]
        style = ""
        if name in layers:
            layer = layers[name]
            if layer["kept_float"]:
                label.append("weights fp32")
                style = ', style=filled, fillcolor="#ffd8a8"'
            else:
                sc = layer["weight_scales"]
                label.append(f"weights int{plan['weight_bits']}, scale {min(sc):.2e}..{max(sc):.2e}")
        point = points.get(node.get("point") or "")
        if point is None:
            label.append("output float")
        elif point.get("kept_float"):
            label.append(f"point {point['point']}: float")
        else:
            label.append(
                f"{plan['activation_bits']}-bit at '{point['point']}': scale {point['scale']:.4g}, "
                f"zero point {point['zero_point']}"
            )
        text = "\\n".join(label)
        lines.append(f'  "{name}" [label="{text}"{style}];')
        for inp in node["inputs"]:
            lines.append(f'  "{inp}" -> "{name}";')
    lines.append("}")
    return "\n".join(lines)


def dot_svg(dot):
    """SVG from Graphviz's dot (Debian graphviz), or a PlaygroundError saying how to get it."""
    exe = shutil.which("dot")
    if exe is None:
        raise PlaygroundError("Graphviz's dot is not installed: scripts/playground.sh installs it (Debian graphviz).")
    r = subprocess.run([exe, "-Tsvg"], input=dot, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise PlaygroundError(f"dot failed: {r.stderr.strip()[:200]}")
    return r.stdout[r.stdout.find("<svg") :]
