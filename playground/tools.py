"""What the playground (quantization.py) computes outside its cells: the model files it finds, their
summaries (read as data: an int8 file's recorded metadata, a .tflite's tensors), the C++ tools it runs
with --json (resnet8-eval, resnet8-analyze, resnet8-ptq), and the small arithmetic of its views
(quantization error of a weight tensor at a clipping range, a Graphviz picture of a plan).

Every failure a user can cause (a missing build, missing data, an unreadable or hostile file, a tool's
refusal) is a PlaygroundError with one sentence the app shows as it is. Files are read with bounds: a model
file or report of at most MAX_FILE_BYTES, a zip member of at most MAX_MEMBER_BYTES (checked before it is
read), JSON nested no deeper than Python's recursion bound; every string that reaches Graphviz or the page
is escaped."""

import hashlib
import html
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
MAX_FILE_BYTES = 64_000_000  # a ResNet8 file is ~100 kB; a report with --json-weights ~2 MB
MAX_MEMBER_BYTES = 1_000_000  # the metadata record in an int8 file is ~600 B
# resnet8-ptq's defaults (the what-if controls start from the chosen file's settings, else these).
PTQ_DEFAULTS = {
    "weight_bits": 7,
    "activation_bits": 8,
    "observer": "percentile",
    "per_channel": True,
    "weight_range": "max",
    "rounding": "nearest",
    "equalize": False,
    "bias_correction": False,
    "fp32_layers": [],
    "calib_per_class": 100,
}


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
    """The model files (.pt, .onnx, .tflite) in the folders and their subfolders, one level deep, and a
    sentence for each folder that is not there (shown, not ignored)."""
    found, notes = [], []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            notes.append(f"{folder}: no such folder; its files are not listed.")
            continue
        for path in sorted(list(folder.glob("*")) + list(folder.glob("*/*"))):
            if path.suffix in MODEL_SUFFIXES and path.is_file() and path not in found:
                found.append(path)
    return found, notes


def read_bounded(path, what):
    """The bytes of `path`, refused past MAX_FILE_BYTES."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise PlaygroundError(f"{path}: {size:,} bytes; a {what} has far fewer (limit {MAX_FILE_BYTES:,}).")
    return path.read_bytes()


def parse_json(data, what):
    """JSON from bytes: valid UTF-8, and nested no deeper than the parser's recursion bound (Python's, ~1,000
    levels), else one sentence."""
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise PlaygroundError(f"{what}: not valid JSON ({type(e).__name__}).") from e


def ptq_metadata(path):
    """The metadata resnet8-ptq records in an int8 file (extra/resnet8_ptq.json) as a dict, or None (an fp32
    export or a foreign TorchScript file). Read from the zip as data (nothing in the file runs), the member's
    size checked before it is read."""
    path = Path(path)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise PlaygroundError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes; not a ResNet8 file.")
    try:
        with zipfile.ZipFile(path) as z:
            infos = [i for i in z.infolist() if i.filename.endswith("extra/resnet8_ptq.json")]
            if not infos:
                return None
            if infos[0].file_size > MAX_MEMBER_BYTES:
                raise PlaygroundError(f"{path}: its metadata record is {infos[0].file_size:,} bytes; resnet8-ptq's "
                                      f"is under 1 kB (limit {MAX_MEMBER_BYTES:,}).")  # fmt: skip
            data = z.read(infos[0])
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, NotImplementedError) as e:
        raise PlaygroundError(f"{path}: not a readable TorchScript file ({type(e).__name__}).") from e
    meta = parse_json(data, f"{path}: its metadata record")
    if not isinstance(meta, dict):
        raise PlaygroundError(f"{path}: its metadata record is not the object resnet8-ptq writes.")
    return meta


def field(d, key, kind, default):
    """d[key] if it is of `kind`, else `default` (a forged file cannot make the app fail)."""
    value = d.get(key, default) if isinstance(d, dict) else default
    return value if isinstance(value, kind) and not (kind is int and isinstance(value, bool)) else default


def tflite_schema():
    sys.path.insert(0, str(Path(__import__("ai_edge_litert").__file__).parent))
    import schema_py_generated

    return schema_py_generated


def tflite_tensors(path):
    """A .tflite's constant weight tensors as {name: (shape, type name, scales, int values)}, read with the
    published schema (data only). A tensor whose buffer does not hold its shape is left out; a file the
    schema cannot read, or with no subgraph, is one sentence."""
    s = tflite_schema()
    data = read_bounded(path, ".tflite")
    try:
        model = s.ModelT.InitFromObj(s.Model.GetRootAsModel(data, 0))
        if not model.subgraphs:
            raise PlaygroundError("a .tflite without a subgraph.")
        types = {v: k for k, v in vars(s.TensorType).items() if not k.startswith("_")}
        out = {}
        for t in model.subgraphs[0].tensors or []:
            out.update(tflite_tensor(t, model.buffers or [], types))
        return out
    except PlaygroundError as e:
        raise PlaygroundError(f"{path}: {e}") from e
    except Exception as e:  # the generated reader raises whatever a damaged buffer makes it raise
        raise PlaygroundError(f"{path}: not a readable .tflite ({type(e).__name__}).") from e


def tflite_tensor(t, buffers, types):
    """{name: (shape, kind, scales, values)} for one weight tensor, or {} if it is not one or does not fit."""
    data = buffers[t.buffer].data if 0 < t.buffer < len(buffers) else None
    kind = types.get(t.type, str(t.type))
    shape = [int(d) for d in (t.shape if t.shape is not None else [])]
    if data is None or kind not in ("INT8", "INT4") or len(shape) < 2 or min(shape) < 1:
        return {}
    n = int(np.prod(shape))
    raw = np.asarray(data, dtype=np.uint8)
    name = t.name.decode("utf-8", "replace") if t.name else "a tensor"
    if len(raw) != ((n + 1) // 2 if kind == "INT4" else n):
        raise PlaygroundError(f"tensor {name!r}: its buffer holds {len(raw)} bytes; its shape {shape} needs "
                              f"{(n + 1) // 2 if kind == 'INT4' else n}.")  # fmt: skip
    if kind == "INT4":  # two a byte, the even element low
        lo, hi = (raw & 0x0F).astype(np.int16), (raw >> 4).astype(np.int16)
        values = np.stack([lo, hi], axis=1).reshape(-1)[:n]
        values = np.where(values >= 8, values - 16, values)
    else:
        values = raw.view(np.int8).astype(np.int16)
    q = t.quantization
    scales = [float(x) for x in q.scale] if q is not None and q.scale is not None else []
    return {name: (shape, kind, scales, values)}


def settings_of(path):
    """The what-if settings that made the file (its recorded metadata), or resnet8-ptq's defaults for a file
    without them; and a sentence saying which."""
    meta = ptq_metadata(path) if path is not None and Path(path).suffix == ".pt" else None
    if meta is None:
        return dict(PTQ_DEFAULTS), "the controls start from resnet8-ptq's defaults (the file records no plan)"
    s = dict(PTQ_DEFAULTS)
    for key in ("weight_bits", "activation_bits"):
        s[key] = min(max(field(meta, key, int, s[key]), 2), 8)
    s["observer"] = field(meta, "observer", str, s["observer"])
    s["per_channel"] = field(meta, "weights", str, "per_channel").startswith("per_channel")
    s["weight_range"] = field(meta, "weight_range", str, s["weight_range"])
    s["rounding"] = field(meta, "rounding", str, s["rounding"])
    s["equalize"] = field(meta, "equalized", bool, False)
    s["bias_correction"] = field(meta, "bias_corrected", bool, False)
    s["fp32_layers"] = [layer for layer in field(meta, "fp32_layers", list, []) if layer in LAYERS]
    s["calib_per_class"] = field(field(meta, "calibration", dict, {}), "per_class", int, s["calib_per_class"])
    return s, f"the controls start from the settings {Path(path).name} was made with"


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
        f = lambda key, kind=str: field(meta, key, kind, "?")  # noqa: E731
        row["kind"] = f"int8 TorchScript, {f('producer')}, engine {f('engine')}"
        row["scheme"] = (
            f"w{f('weight_bits', int)}a{f('activation_bits', int)}, {f('weights')}, weight range "
            f"{f('weight_range')}, observer {f('observer')}"
        )
        methods = [
            m for m, on in (("CLE", f("equalized", bool)), ("bias correction", f("bias_corrected", bool))) if on is True
        ]
        row["methods"] = ", ".join([f"rounding {f('rounding')}", *methods])
        cal = field(meta, "calibration", dict, {})
        row["calibration"] = (
            f"{field(cal, 'per_class', int, '?')} images per class, seed {field(cal, 'seed', int, '?')}"
        )
        row["fp32 layers"] = ", ".join(x for x in field(meta, "fp32_layers", list, []) if isinstance(x, str)) or "none"
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
    return parse_json(read_bounded(out, "report"), str(out))


def evaluation(path, images=10000):
    """resnet8-eval's JSON report of a model file on the first `images` test images (cached)."""
    args = ("-m", path, "--data", CIFAR, "--limit", images, "--threads", "0")
    return cached_report(evaluation_file(path, images), "resnet8-eval", *args)


def cached_evaluation(path, images=10000):
    """The cached report if the file was evaluated, else None (nothing runs)."""
    out = evaluation_file(path, images)
    return parse_json(read_bounded(out, "report"), str(out)) if out.exists() else None


def report_for(path):
    """The resnet8-ptq --json report written beside an int8 file (FILE.json or FILE's stem .json), checked to
    have the shape the views read (a hostile one is one sentence), or None."""
    path = Path(path)
    for candidate in (path.with_suffix(".json"), path.with_name(path.name + ".json")):
        if candidate.is_file():
            report = parse_json(read_bounded(candidate, "resnet8-ptq report"), str(candidate))
            if isinstance(report, dict) and "ptq" in report:
                check_report(report, candidate)
                return report
    return None


def check_report(report, where):
    """Refuses a report whose plan or weights are not what resnet8-ptq writes (types and shapes)."""

    def bad(what):
        return PlaygroundError(f"{where}: not a resnet8-ptq report ({what}).")

    plan = field(field(report, "ptq", dict, {}), "plan", dict, None)
    if plan is None:
        raise bad("no plan")
    for key, kind in (("layers", list), ("activations", list), ("graph", list)):
        if not isinstance(plan.get(key), kind) or not all(isinstance(x, dict) for x in plan[key]):
            raise bad(f"plan.{key} is not a list of objects")
    if not isinstance(plan.get("weight_bits"), int) or not isinstance(plan.get("activation_bits"), int):
        raise bad("no bit-widths")
    for layer in plan["layers"]:
        if not isinstance(layer.get("layer"), str) or not isinstance(layer.get("weight_scales"), list):
            raise bad("a layer without its name or scales")
        if not all(isinstance(x, (int, float)) for x in layer["weight_scales"]):
            raise bad(f"layer {layer['layer']!r} has scales that are not numbers")
    for node in plan["graph"]:
        if not isinstance(node.get("name"), str) or not isinstance(node.get("inputs", []), list):
            raise bad("a graph node without its name or inputs")
    weights = report.get("weights")
    if weights is not None:
        check_weights(weights, plan, bad)


def check_weights(weights, plan, bad):
    if not isinstance(weights, dict):
        raise bad("'weights' is not an object")
    for layer in plan["layers"]:
        w = weights.get(layer["layer"])
        shape = w.get("shape") if isinstance(w, dict) else None
        if not isinstance(shape, list) or not shape or not all(isinstance(d, int) and d > 0 for d in shape):
            raise bad(f"the weights of {layer['layer']!r} have no shape")
        n = int(np.prod(shape))
        for key in ("weights", "fp32_weights"):
            values = w.get(key)
            if not isinstance(values, list) or len(values) != n or not all(isinstance(v, (int, float)) for v in values):
                raise bad(f"the {key} of {layer['layer']!r} do not hold its shape {shape}")


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
                         "--threads", "0", "--what-if", f"w{s['weight_bits']}a{s['activation_bits']}",
                         "--limit", s["test_images"], *plan_flags(s))["what_if"]  # fmt: skip


def sensitivity(config, s):
    """resnet8-analyze's per-layer sensitivity and mixed-precision search at `config` (e.g. w4a8), with the
    what-if settings `s` (observer, weight range, methods, calibration and test images)."""
    flags = [f for f in plan_flags(s) if f not in ("--per-tensor",)]
    if "--keep-float" in flags:  # the search chooses the fp32 layers itself
        i = flags.index("--keep-float")
        del flags[i : i + 2]
    out = WORK / "sensitivity" / f"{cache_name('resnet8-analyze', config, json.dumps(flags), s['test_images'])}.json"
    return cached_report(out, "resnet8-analyze", "--model", FP32, "--data", CIFAR, "--sections", "sensitivity,mixed",
                         "--threads", "0", "--sensitivity", config, "--mixed", config, "--limit", s["test_images"],
                         *flags)  # fmt: skip


def formats_for(s):
    """The files resnet8-ptq can write for the settings `s` beside the .pt and its report, and a sentence for
    each format it cannot (ONNX's and TFLite's int8 tensors take 7- or 8-bit activations; TFLite quantizes
    every layer)."""
    formats, why_not = [], []
    if s["activation_bits"] >= 7:
        formats.append("onnx")
    else:
        why_not.append(f"ONNX: its int8 tensors take 7- or 8-bit activations, not {s['activation_bits']}.")
    if s["activation_bits"] >= 7 and not s["fp32_layers"]:
        formats.append("tflite")
    elif s["activation_bits"] < 7:
        why_not.append(f"TFLite: its int8 tensors take 7- or 8-bit activations, not {s['activation_bits']}.")
    else:
        why_not.append("TFLite: it quantizes every layer, and this plan keeps some in fp32.")
    return formats, why_not


def write_real_file(s, name):
    """resnet8-ptq with the settings: build/playground/files/NAME.pt with its --json report (weights
    included), and the .onnx and .tflite where the plan can be written so (formats_for); evaluated on the
    test set. Returns the paths written and the tool's output."""
    folder = WORK / "files"
    folder.mkdir(parents=True, exist_ok=True)
    pt = folder / f"{name}.pt"
    args = ["--model", FP32, "--data", CIFAR, "--threads", "0", "-o", pt, "--json", pt.with_suffix(".json"),
            "--json-weights", "--weight-bits", s["weight_bits"]]  # fmt: skip
    if s["activation_bits"] != 8:
        args += ["--activation-bits", s["activation_bits"]]
    for fmt in formats_for(s)[0]:
        args += [f"--{fmt}", pt.with_suffix(f".{fmt}")]
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


def dot_string(*lines):
    """A Graphviz quoted string holding `lines` as they are, one per line: quotes and backslashes escaped, so
    that nothing in a report's strings can end the string and add attributes (a URL, a javascript: link)."""
    escaped = [str(t).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") for t in lines]
    return '"' + "\\n".join(escaped) + '"'


def plan_dot(plan):
    """The plan's network as Graphviz dot: every node with its activation point's bits, scale and zero
    point; layers with their weight bits and scale range; fp32 layers marked. Every string from the report is
    escaped (dot_string)."""
    points = {str(a.get("point")): a for a in plan["activations"]}
    layers = {str(layer.get("layer")): layer for layer in plan["layers"]}
    lines = ["digraph plan {", '  rankdir=TB; node [shape=box, fontname="Helvetica", fontsize=10];']
    for node in plan["graph"]:
        name = str(node.get("name"))
        label = [f"{name} ({node.get('kind')}{' + relu' if node.get('relu') is True else ''})"]
        style = ""
        layer = layers.get(name)
        if layer is not None and layer.get("kept_float") is True:
            label.append("weights fp32")
            style = ', style=filled, fillcolor="#ffd8a8"'
        elif layer is not None and layer["weight_scales"]:
            sc = layer["weight_scales"]
            label.append(f"weights int{plan['weight_bits']}, scale {min(sc):.2e}..{max(sc):.2e}")
        point = points.get(str(node.get("point") or ""))
        if point is None:
            label.append("output float")
        elif point.get("kept_float") is True:
            label.append(f"point {point.get('point')}: float")
        else:
            scale = point.get("scale")
            scale = f"{scale:.4g}" if isinstance(scale, (int, float)) else scale
            label.append(
                f"{plan['activation_bits']}-bit at '{point.get('point')}': scale {scale}, "
                f"zero point {point.get('zero_point')}"
            )
        lines.append(f"  {dot_string(name)} [label={dot_string(*label)}{style}];")
        for inp in node.get("inputs", []):
            lines.append(f"  {dot_string(inp)} -> {dot_string(name)};")
    lines.append("}")
    return "\n".join(lines)


def dot_svg(dot):
    """SVG from Graphviz's dot (Debian graphviz), or a PlaygroundError saying how to get it."""
    exe = shutil.which("dot")
    if exe is None:
        raise PlaygroundError("Graphviz's dot is not installed: scripts/playground.sh installs it (Debian graphviz).")
    r = subprocess.run([exe, "-Tsvg"], input=dot, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise PlaygroundError(f"dot failed: {html.escape(r.stderr.strip()[:200])}")
    svg = r.stdout[r.stdout.find("<svg") :]
    if "href" in svg or "<script" in svg:  # dot_string() leaves no way to add either; refuse rather than show
        raise PlaygroundError("The plan's picture would hold a link or a script; not shown.")
    return svg


def md_text(text):
    """Text from a file or a tool, safe inside mo.md(): HTML escaped, Markdown's markup characters too."""
    out = html.escape(str(text))
    for ch in "\\`*_[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return out
