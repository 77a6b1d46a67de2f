#!/usr/bin/env python3
"""Differential test against TensorFlow Lite Micro: every .tflite the toolkit accepts is computed exactly as
TFLM computes it.

Random graphs (tests/tflite_graphs.py, seeded) over every operator and option the reader accepts go through:
  - resnet8-eval's path: the integer program prepared and planned, run on the host (tests/tflite_diff.cpp)
    with the portable C kernels and again on each x86 level of the convolutions the CPU runs (AVX2,
    AVX-512 VNNI), and the reference interpreter beside it (each operator alone, no fusion or views);
  - the generated C, built with the host's C compiler (-std=c99 -O2 -Wall -Wextra -Werror, or the flags given);
  - TFLM's own interpreter (PyPI tflite-micro, reference kernels), on the same int8 inputs.
Each graph must be refused by the toolkit with one line naming the operator and what is wrong, or give
TFLM's int8 output, element for element, on every input, on all three paths. A graph TFLM refuses or fails
on must be refused too. Every graph that ever failed is a fixed regression case (REGRESSIONS): its seed, regenerated
and checked against the SHA-256 of the bytes that failed.

  .venv/bin/python tests/test_tflm_diff.py --diff build/tests/resnet8-tflite-diff              # 300 graphs
  .venv/bin/python tests/test_tflm_diff.py --diff ... --graphs 5000 --first-seed 100000       # longer
  ... --cflags "-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all"               # sanitize.sh
"""

import argparse
import collections
import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tflite_graphs import Graph  # noqa: E402

# Graphs that once found a defect: the generator's graph of the seed in the name, what each must give now, and
# the SHA-256 of its bytes when it found the defect. They are regenerated, not stored; a generator (or numpy,
# or flatbuffers) that no longer writes those bytes fails the test, because the case would be lost.
REGRESSIONS = {
    "add_chain_466.tflite": (
        "identical",
        "66ccb9ec73b55f7778a1ff99bc8a4fc9b94a13071a717722ff1e1c5463e98e56",
    ),  # conv -> ADD -> ADD: the second ADD fused into a conv that had one
    "add_chain_59.tflite": ("identical", "2aac09ef838f1203f9386039c52dd8182347d835062495b22d984ac1a2efd58c"),
    "view_under_conv_input_129.tflite": (
        "identical",
        "685a3ac98db7b1b5fbf005413ae0538395a5ed1eb0de541317113159b48d4333",
    ),  # fused in place over bytes the conv's input view shares
    "view_under_conv_input_169.tflite": (
        "identical",
        "215d58052dc1505fbaa4f42a899ae424a300d392f2f9ffbe084893889834220b",
    ),
    "output_view_2.tflite": (
        "identical",
        "a118534ba964750e466b86d4f9c95afe8b2675f7f0e98865e6725193c9a9eacf",
    ),  # fused in place over the graph output (a RESHAPE view of it)
    "output_view_13.tflite": ("identical", "3856c5fbec52a2255a6cdab20d99fe9b6026bbc94bb81492956512bd05c9a354"),
    "softmax_rows_7.tflite": (
        "identical",
        "e9df5ef4622e0b71322e658e83fcf8ceefafaac6c96c83a5c28741efdd9a3dd6",
    ),  # SOFTMAX over several rows: only the first was computed
    "softmax_rows_18.tflite": ("identical", "1f3e29e382a6fcb0717620ba57be33d5e3efbf0c019f635c2d2aecae3645fdb3"),
    "activation_bound_3.tflite": (
        "refused",
        "08caf179d6d85040e95212cd3512da2a4870ac16c76f447ef2ad408031dcb645",
    ),  # RELU6's bound not an int32 number of steps (TFLM refuses it)
    "left_shift_11.tflite": (
        "refused",
        "550d4db735b0eab022ffeb48b9b5e665e17366acf4d246bb90e670303076f25d",
    ),  # a requantization left shift of 34: undefined in TFLM and the kernels
    "left_shift_29.tflite": (
        "refused",
        "305bfaa92b6751d11c6bc667fb4dfe68339dca0321f8d083e134d8a504b8c78e",
    ),  # ... of 98
}
INPUTS = 4
INPUT_BYTES = 32 * 32 * 3


def arguments():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--diff", required=True, type=Path, help="the resnet8-tflite-diff executable")
    ap.add_argument("--graphs", type=int, default=300, help="random graphs besides the regressions (default 300)")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    ap.add_argument("--cflags", default="-std=c99 -O2 -Wall -Wextra -Werror")
    ap.add_argument("--work", type=Path, help="keep the graphs and outputs in this directory")
    ap.add_argument("--mcu", type=int, default=0, metavar="N",
                    help="also run the first N accepted graphs (arena <= 256 KB) as Cortex-M4 code, the Arm DSP "
                         "variant, in QEMU's mps2-an386 (needs arm-none-eabi-gcc and qemu-system-arm)")  # fmt: skip
    ap.add_argument("--tflm-worker", nargs="+", help=argparse.SUPPRESS)
    return ap.parse_args()


def tflm_worker(inputs_path, graphs):
    """In a child process: TFLM on each graph, one JSON line each (a crash loses only this child's lines)."""
    from tflite_micro.python.tflite_micro import runtime

    inputs = np.fromfile(inputs_path, dtype=np.int8).reshape(-1, 1, 32, 32, 3)
    for g in graphs:
        row = {"model": Path(g).name}
        try:
            it = runtime.Interpreter.from_file(g, arena_size=64 << 20)  # the default is sized for small models
            out = []
            for x in inputs:
                it.set_input(x, 0)
                it.invoke()
                out.append(it.get_output(0).astype(np.int64).reshape(-1).tolist())
            row["tflm"] = out
        except Exception as e:  # TFLM refused or failed: the toolkit must refuse it too
            row["tflm_error"] = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(json.dumps(row), flush=True)


def tflm(inputs_path, graphs):
    """TFLM's outputs per graph name, in two child processes; a graph whose child crashed is marked so."""

    def chunk(names):
        cmd = [sys.executable, __file__, "--diff", "-", "--tflm-worker", str(inputs_path), *map(str, names)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        rows = {}
        for line in r.stdout.splitlines():
            row = json.loads(line)
            rows[row["model"]] = row
        if r.returncode != 0:  # a crash: the rest one by one
            missing = [n for n in names if Path(n).name not in rows]
            if len(missing) == 1:
                rows[Path(missing[0]).name] = {"tflm_error": f"TFLM crashed (exit {r.returncode})"}
            else:
                for n in missing:
                    rows.update(chunk([n]))
        return rows

    halves = [graphs[0::2], graphs[1::2]]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = {}
        for rows in pool.map(chunk, halves):
            results.update(rows)
    return results


def write_driver(path, count, arena_words, open_inputs):
    """The driver (DRIVER) for graphs g0 .. g<count - 1>, with an arena of arena_words and the inputs opened by the
    C expression open_inputs."""
    decls = "".join(f"int g{i}_run(const int8_t*, int8_t*, void*);\n" for i in range(count))
    table = ", ".join(f"g{i}_run" for i in range(count)) or "0"
    text = DRIVER.replace("@DECLS@", decls).replace("@TABLE@", table).replace("@COUNT@", str(count))
    path.write_text(text.replace("@ARENA@", str(arena_words)).replace("@OPEN@", open_inputs))


def graph_sources(c, names):
    """(source, extra flags) of the kernels once and of each graph's model, its entry points renamed g<i>_*."""
    sources = [(k, [f"-I{c / 'kernels'}"]) for k in sorted((c / "kernels").glob("*.c"))]
    for i, name in enumerate(names):
        stem = Path(name).stem
        renames = [f"-Dresnet8_{f}=g{i}_{f}" for f in ("run", "classify", "classify_in", "invoke", "arena")]
        sources.append((c / stem / "resnet8_model.c", [f"-I{c / stem}", f"-I{c / 'kernels'}", *renames]))
    return sources


def parse_outputs(stdout, names):
    """The driver's "graph v0 .. v9" lines: each graph's outputs, input by input."""
    out = collections.defaultdict(list)
    for line in stdout.splitlines():
        if re.fullmatch(r"\d+( -?\d+)+", line.strip()):
            graph, *values = line.split()
            out[names[int(graph)]].append([int(v) for v in values])
    return out


def host_c(args, work, accepted, inputs_path):
    """Builds every accepted graph's C into one program (the kernels once) and runs it: outputs per graph."""
    c = work / "out" / "c"
    cflags = shlex.split(args.cflags)
    build = work / "cbuild"
    build.mkdir(exist_ok=True)
    jobs = [(src, build / f"o{i}.o", extra) for i, (src, extra) in enumerate(graph_sources(c, accepted))]
    driver = build / "driver.c"
    write_driver(driver, len(accepted), (64 << 20) // 4, 'argc == 2 ? fopen(argv[1], "rb") : 0')
    jobs.append((driver, build / "driver.o", []))

    def compile_one(job):
        src, obj, extra = job
        return subprocess.run(
            [args.cc, *cflags, *extra, "-c", str(src), "-o", str(obj)], capture_output=True, text=True
        )

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(compile_one, jobs))
    failed = [(j[0], r.stderr) for j, r in zip(jobs, results) if r.returncode != 0]
    if failed:
        return None, f"{failed[0][0]}: {failed[0][1][-2000:]}"
    exe = build / "graphs"
    r = subprocess.run([args.cc, *cflags, *[str(j[1]) for j in jobs], "-o", str(exe)], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr[-2000:]
    r = subprocess.run([str(exe), str(inputs_path)], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        return None, f"the host C exited {r.returncode}: {r.stderr[-2000:]}"
    return parse_outputs(r.stdout, accepted), ""


def mcu_c(args, work, accepted, inputs_path):
    """The first args.mcu accepted graphs whose arena fits in 256 KB, built for a Cortex-M4 (-Os, the DSP
    variant) into one program and run in QEMU: outputs per graph, and the graphs chosen."""
    root = Path(__file__).resolve().parent.parent
    mcu, c, build = root / "tests" / "micro" / "mcu", work / "out" / "c", work / "mcubuild"
    build.mkdir(exist_ok=True)
    chosen, arena = [], 0
    for name in accepted:
        header = (c / Path(name).stem / "resnet8_model.h").read_text()
        size = int(re.search(r"RESNET8_ARENA_BYTES (\d+)", header).group(1))
        if size <= 256 * 1024 and len(chosen) < args.mcu:
            chosen.append(name)
            arena = max(arena, size)
    flags = ["-mcpu=cortex-m4", "-mthumb", "-std=c99", "-Os", "-Wall", "-Wextra", "-Werror", "-ffunction-sections",
             "-fdata-sections", "-mfloat-abi=soft", "-DRESNET8_NO_STATIC_ARENA"]  # fmt: skip
    sources = graph_sources(c, chosen)
    driver = build / "driver.c"
    write_driver(driver, len(chosen), (arena + 3) // 4 or 1, f'fopen("{inputs_path}", "rb")')
    sources += [(driver, []), (mcu / "startup.c", [])]
    objs = []
    for i, (src, extra) in enumerate(sources):
        obj = build / f"o{i}.o"
        r = subprocess.run(["arm-none-eabi-gcc", *flags, *extra, "-c", str(src), "-o", str(obj)], capture_output=True,
                           text=True)  # fmt: skip
        if r.returncode != 0:
            return None, chosen, f"{src}: {r.stderr[-2000:]}"
        objs.append(str(obj))
    elf = build / "graphs.elf"
    link = ["-nostartfiles", "--specs=rdimon.specs", f"-L{mcu}", "-T", str(mcu / "mps2_an386.ld"), "-Wl,--gc-sections"]
    r = subprocess.run(["arm-none-eabi-gcc", *flags, *link, *objs, "-o", str(elf)], capture_output=True, text=True)
    if r.returncode != 0:
        return None, chosen, r.stderr[-2000:]
    qemu = ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-semihosting-config", "enable=on,target=native"]
    r = subprocess.run([*qemu, "-kernel", str(elf)], capture_output=True, text=True, timeout=600)
    out = parse_outputs(r.stdout, chosen)
    if r.returncode != 0 or not out and chosen:
        return None, chosen, f"QEMU exited {r.returncode}: {(r.stdout + r.stderr)[-2000:]}"
    return out, chosen, ""


DRIVER = r"""/* The differential test's driver: every graph on every input, "graph v0 .. v9" per line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
@DECLS@
typedef int (*run_fn)(const int8_t*, int8_t*, void*);
static const run_fn runs[] = {@TABLE@};

int main(int argc, char** argv) {
  static int8_t input[3072];
  static int32_t arena[@ARENA@];
  int8_t out[10];
  int g, k;
  FILE* f;
  (void)argc, (void)argv;
  if (!(f = @OPEN@)) return 2;
  while (fread(input, 1, sizeof input, f) == sizeof input) {
    for (g = 0; g < @COUNT@; ++g) {
      runs[g](input, out, arena);
      printf("%d", g);
      for (k = 0; k < 10; ++k) printf(" %d", out[k]);
      printf("\n");
    }
  }
  fclose(f);
  return 0;
}
"""


def inputs_for(rng):
    """Random int8 inputs, the first two at the extremes of the range."""
    x = rng.integers(-128, 128, size=(INPUTS, INPUT_BYTES)).astype(np.int8)
    x[0], x[1] = -128, 127
    return x


def refusal_kind(message):
    """'operator 3 (ADD): a rescaling multiplier of 1e36 ...' -> 'ADD: a rescaling multiplier of ...'."""
    m = re.search(r"operator \d+ \(([A-Z_0-9]+)\): (.*)", message)
    text = f"{m.group(1)}: {m.group(2)}" if m else message.split(": ", 1)[-1]
    text = re.sub(r"'[^' ]*'", "'T'", text)
    return re.sub(r"(?<![A-Za-z_\d])[-+]?\d[\d.e+-]*", "N", text)[:110]


def compare(rows, reference, c_out, c_error, m4=None):
    """Defects: (model, what) for every graph whose paths disagree with TFLM or accept what TFLM refuses; `m4`:
    (outputs, graphs chosen, error) of the Cortex-M4 run, if any."""
    defects = []
    m4_out, m4_chosen, m4_error = m4 or ({}, [], "")
    for name, row in rows.items():
        t = reference.get(name, {"tflm_error": "no TFLM result"})
        if "refused" in row:
            continue
        if "tflm_error" in t:
            defects.append((name, f"accepted, but TFLM refuses it ({t['tflm_error']})"))
            continue
        want = np.array(t["tflm"])
        paths = [("program", row["program"]), ("reference", row["reference"]), ("C", c_out.get(name))]
        paths += [(f"program on {level}", got) for level, got in row.get("x86", {}).items()]
        if name in m4_chosen:
            paths.append(("C on the Cortex-M4", (m4_out or {}).get(name)))
        for path, got in paths:
            if got is None:
                error = m4_error if path.endswith("M4") else c_error
                defects.append((name, f"the {path} did not run ({error[:300]})"))
            elif not np.array_equal(np.array(got), want):
                differ = int((np.array(got) != want).any(axis=1).sum())
                defects.append((name, f"{path} differs from TFLM on {differ} of {len(want)} inputs"))
    return defects


def main():
    args = arguments()
    if args.tflm_worker:
        tflm_worker(args.tflm_worker[0], args.tflm_worker[1:])
        return 0
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="resnet8-tflm-diff-") as tmp:
        work = args.work or Path(tmp)
        graphs_dir = work / "graphs"
        graphs_dir.mkdir(parents=True, exist_ok=True)
        seeds = range(args.first_seed, args.first_seed + args.graphs)
        paths = []
        for name, (_, sha256) in REGRESSIONS.items():
            data = Graph(int(Path(name).stem.rsplit("_", 1)[1])).build()
            if hashlib.sha256(data).hexdigest() != sha256:
                print(f"FAIL: regression case {name}: the generator no longer writes the graph that found the defect "
                      f"(SHA-256 {hashlib.sha256(data).hexdigest()}, recorded {sha256})")  # fmt: skip
                return 1
            paths.append(graphs_dir / name)
            paths[-1].write_bytes(data)
        for seed in seeds:
            path = graphs_dir / f"graph_{seed}.tflite"
            path.write_bytes(Graph(seed).build())
            paths.append(path)
        inputs_path = work / "inputs.bin"
        inputs_for(np.random.default_rng(args.first_seed)).tofile(inputs_path)
        r = subprocess.run([str(args.diff), str(inputs_path), str(work / "out"), *map(str, paths)], capture_output=True,
                           text=True)  # fmt: skip
        if r.returncode != 0:
            print(f"FAIL: resnet8-tflite-diff exited {r.returncode}: {r.stderr[-2000:]}")
            return 1
        rows = {}
        for line in (work / "out" / "results.jsonl").read_text().splitlines():
            row = json.loads(line)
            rows[row["model"]] = row
        reference = tflm(inputs_path, paths)
        accepted = [name for name, row in rows.items() if "refused" not in row]
        c_out, c_error = host_c(args, work, accepted, inputs_path)
        m4 = mcu_c(args, work, accepted, inputs_path) if args.mcu else None
        defects = compare(rows, reference, c_out or {}, c_error, m4)
        for name, (want, _) in REGRESSIONS.items():
            if ("refused" in rows[name]) != (want == "refused"):
                defects.append(
                    (name, f"a regression case: expected {want}, got {rows[name].get('refused', 'accepted')}")
                )
        refusals = collections.Counter(refusal_kind(row["refused"]) for row in rows.values() if "refused" in row)
        both = sum(1 for n, row in rows.items() if "refused" in row and "tflm_error" in reference.get(n, {}))
        print(f"{len(seeds)} random graphs (seeds {args.first_seed}..{args.first_seed + args.graphs - 1}) and "
              f"{len(REGRESSIONS)} regression cases, {INPUTS} inputs each, {time.time() - start:.0f} s")  # fmt: skip
        bad = len(set(d[0] for d in defects))
        levels = sorted({level for row in rows.values() for level in row.get("x86", {})})
        also = f" (the program also on {', '.join(levels)})" if levels else " (no x86 level of the kernels on this CPU)"
        print(f"  accepted and identical to TFLM on every input, on all three paths{also}: {len(accepted) - bad}")
        if m4:
            m4_bad = len(set(d[0] for d in defects if d[0] in m4[1]))
            print(f"  of them run as Cortex-M4 code in QEMU (DSP variant, -Os) and identical: {len(m4[1]) - m4_bad} "
                  f"of {len(m4[1])}")  # fmt: skip
        print(f"  refused: {sum(refusals.values())} ({both} of them refused by TFLM too)")
        for kind, n in refusals.most_common():
            print(f"    {n:4d}  {kind}")
        for name, what in defects:
            print(f"FAIL: {name}: {what}")
        return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main())
