#!/usr/bin/env python3
"""The tools against hostile and careless input: each failure must end in one clear error line with exit 1
or 2, leave the scratch directory exactly as it was, and never change an input. Also: int8 files checked on
every path, outputs on a full disk, permissions, concurrent and stopped runs, exact data files, bounded flags."""

import hashlib
import json
import os
import resource
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from cli_check import arguments, expect, finish
from cli_check import run as run_tool

AVX2_KERNELS = {"FBGEMM_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def snapshot(directory):
    """Every entry under directory with its kind and, for regular files, a hash of the contents."""
    out = {}
    for root, dirs, files in os.walk(directory, followlinks=False):
        for name in dirs + files:
            p = Path(root) / name
            st = p.lstat()
            digest = hashlib.sha1(p.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else ""
            out[str(p.relative_to(directory))] = (stat.S_IFMT(st.st_mode), digest)
    return out


def expect_clean_failure(name, result, code, fragment, directory, before):
    """Exit `code`, a first stderr line "...: error: ...fragment...", at most a --help hint after it,
    and `directory` unchanged."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    one_line = (
        bool(lines)
        and ": error: " in lines[0]
        and fragment in lines[0]
        and (len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("(see ")))
    )
    after = snapshot(directory)
    expect(
        name,
        result.returncode == code and one_line and after == before,
        f"exit {result.returncode} (want {code}); stderr:\n{result.stderr[-1500:]}\n"
        f"changed: {sorted(set(after.items()) ^ set(before.items()))[:6]}",
    )


def replace_record(src, dst, suffix, data, extra=None):
    """Copies the zip `src` to `dst` with the record ending in `suffix` replaced by `data`, plus the
    records in `extra` (name -> bytes)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, data if item.filename.endswith(suffix) else zin.read(item.filename))
        for name, data in (extra or {}).items():
            zout.writestr(name, data)


def record(path, suffix):
    with zipfile.ZipFile(path) as z:
        return z.read(next(n for n in z.namelist() if n.endswith(suffix)))


def nested_pickle(depth):
    """A protocol-2 pickle of `depth` objects of class __torch__.M, each the only attribute of the previous."""

    def unicode(s):
        b = s.encode()
        return b"X" + struct.pack("<I", len(b)) + b

    level = b"c__torch__\nM\n" + b")" + b"\x81" + b"}" + unicode("child")
    return b"\x80\x02" + level * depth + b"N" + b"sb" * depth + b"."


def scripted_model(path, body):
    """A TorchScript file whose forward(x) runs `body` (Python source, one expression)."""
    code = (
        "import torch\n"
        "class M(torch.nn.Module):\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        f"        return {body}\n"
        f"torch.jit.save(torch.jit.script(M()), {str(path)!r})\n"
    )
    script = path.with_suffix(".py")  # TorchScript compiles from source files, not from `python -c`
    script.write_text(code)
    subprocess.run([sys.executable, str(script)], check=True, capture_output=True)
    script.unlink()


def staged(directory, name):
    """The files a running tool has written for `name` but not yet put in place."""
    return list(directory.glob(f".{name}.tmp.*/{name}"))


class Ctx:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.model = work / "fp32.pt"
        self.model.write_bytes(args.model.read_bytes())

    def check(self, name, code, fragment, tool, *a, env=None):
        before = snapshot(self.work)
        result = subprocess.run(
            [str(tool), *map(str, a)], capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})}
        )
        expect_clean_failure(name, result, code, fragment, self.work, before)

    def eval_(self, *a):
        return (self.args.eval, "--data", self.args.data, "--threads", "2", *a)

    def ptq(self, *a, data=None):
        return (self.args.ptq, "--data", data or self.args.data, "-m", self.model, "--threads", "2", *a)


def outputs(c):
    """Outputs that are not regular files, equal inputs, or come from a failing run."""
    work, model = c.work, c.model
    fifo = work / "fifo"
    os.mkfifo(fifo)
    c.check("--json onto a FIFO", 1, "not a regular file", *c.eval_("-m", model, "--limit", "10", "--json", fifo))
    if os.geteuid() == 0:
        dev = work / "null"
        os.mknod(dev, stat.S_IFCHR | 0o600, os.makedev(1, 3))
        c.check("--predictions onto a device", 1, "not a regular file", *c.eval_("-m", model, "--predictions", dev))
    link = work / "link.json"
    link.symlink_to(work / "target.json")
    c.check("--json onto a symlink", 1, "symbolic link", *c.eval_("-m", model, "--limit", "10", "--json", link))
    c.check("--output onto a symlink", 1, "symbolic link", *c.ptq("-o", link, "--no-eval"))
    c.check("ptq -o = -m", 2, "same file as the input --model", *c.ptq("-o", work / ".." / "work" / "fp32.pt"))
    c.check("ptq --json = -m", 2, "same file as the input --model", *c.ptq("-o", work / "q.pt", "--json", model))
    c.check("ptq --json = -o", 2, "is the same file as --output", *c.ptq("-o", work / "q.pt", "--json", work / "q.pt"))
    both = c.eval_("-m", model, "--json", work / "r", "--predictions", work / "r")
    c.check("eval --json = --predictions", 2, "is the same file as --json", *both)
    batch = c.args.data / "test_batch.bin"
    c.check("eval --json = a data batch", 2, "same file as the input --data", *c.eval_("-m", model, "--json", batch))
    c.check("-o ''", 2, "--output: an empty path; expected a file name", *c.ptq("-o", "", "--no-eval"))
    c.check("--onnx ''", 2, "--onnx: an empty path; expected a file name", *c.ptq("-o", work / "q.pt", "--onnx", ""))
    c.check("--json ''", 2, "--json: an empty path", *c.eval_("-m", model, "--json", ""))
    # A failure after --output was written leaves nothing: the test batch is read after quantizing.
    data = work / "data"
    data.mkdir()
    for k in range(1, 6):
        (data / f"data_batch_{k}.bin").symlink_to((c.args.data / f"data_batch_{k}.bin").resolve())
    (data / "test_batch.bin").write_bytes(b"\0" * 3072)
    c.check(
        "ptq fails on the test batch after writing --output",
        1,
        "test_batch.bin",
        *c.ptq("-o", work / "q.pt", "--calib-per-class", "1", data=data),
    )
    (data / "test_batch.bin").unlink()
    for k in range(1, 6):
        (data / f"data_batch_{k}.bin").unlink()
    data.rmdir()


def permissions(c):
    """A replaced output keeps its mode: a private report stays private, a read-only file read-only."""
    report, onnx, q = c.work / "report.json", c.work / "q.onnx", c.work / "q.pt"
    for path, mode in [(report, 0o600), (onnx, 0o444)]:
        path.write_text("old")
        path.chmod(mode)
    r = run_tool(*c.eval_("-m", c.model, "--limit", "10", "--json", report))
    expect(
        "eval --json over a 0600 report keeps it 0600",
        r.returncode == 0 and report.stat().st_mode & 0o777 == 0o600,
        f"{r.stderr} mode {oct(report.stat().st_mode)}",
    )
    r = run_tool(*c.ptq("-o", q, "--onnx", onnx, "--calib-per-class", "1", "--no-eval"))
    expect(
        "ptq --onnx over a 0444 file keeps it 0444",
        r.returncode == 0 and onnx.stat().st_mode & 0o777 == 0o444,
        f"{r.stderr} mode {oct(onnx.stat().st_mode)}",
    )
    expect("a new output is 0644 at most", q.stat().st_mode & 0o777 & ~0o644 == 0, oct(q.stat().st_mode))
    for p in (report, onnx, q):
        p.unlink()


def data_files(c):
    """A CIFAR-10 batch is the official 10,000 records unless --partial-data; non-files are named."""
    work, model = c.work, c.model
    sparse = work / "sparse"
    sparse.mkdir()
    with open(sparse / "test_batch.bin", "wb") as f:  # 3 GB of nothing: 1,000,000 records
        f.truncate(3073 * 1000000)
    c.check(
        "a huge sparse test batch",
        1,
        "1000000 records; an official CIFAR-10 batch file holds exactly 10000",
        c.args.eval,
        "--data",
        sparse,
        "-m",
        model,
    )
    c.check(
        "a huge sparse test batch, --partial-data",
        1,
        "1000000 records; a CIFAR-10 batch file has 10000 (limit",
        c.args.eval,
        "--data",
        sparse,
        "-m",
        model,
        "--partial-data",
    )
    (sparse / "test_batch.bin").unlink()
    cut = work / "cut"
    cut.mkdir()
    test = (c.args.data / "test_batch.bin").read_bytes()
    (cut / "test_batch.bin").write_bytes(test[: 5000 * 3073])
    for k in range(1, 6):
        (cut / f"data_batch_{k}.bin").symlink_to((c.args.data / f"data_batch_{k}.bin").resolve())
    c.check(
        "a test batch cut at a record boundary (5,000)",
        1,
        "test_batch.bin: 15365000 bytes = 5000 records",
        c.args.eval,
        "--data",
        cut,
        "-m",
        model,
        "--limit",
        "10",
    )
    r = run_tool(c.args.eval, "--data", cut, "-m", model, "--partial-data", "--threads", "2")
    expect("--partial-data evaluates the 5,000 records", r.returncode == 0 and "/5000)" in r.stdout, r.stderr)
    (cut / "data_batch_3.bin").unlink()
    (cut / "data_batch_3.bin").write_bytes((c.args.data / "data_batch_3.bin").read_bytes()[: 100 * 3073])
    c.check(
        "a training batch of 100 records",
        1,
        "data_batch_3.bin: 307300 bytes = 100 records",
        *c.ptq("-o", work / "q.pt", "--no-eval", data=cut),
    )
    subprocess.run(["rm", "-rf", str(cut)])
    (sparse / "test_batch.bin").mkdir()
    c.check(
        "a directory as test_batch.bin",
        1,
        "test_batch.bin: is a directory; expected a CIFAR-10 batch file",
        c.args.eval,
        "--data",
        sparse,
        "-m",
        model,
    )
    (sparse / "test_batch.bin").rmdir()
    os.mkfifo(sparse / "test_batch.bin")
    c.check(
        "a FIFO as test_batch.bin",
        1,
        "test_batch.bin: is a FIFO (named pipe); expected a CIFAR-10 batch file",
        c.args.eval,
        "--data",
        sparse,
        "-m",
        model,
    )
    (sparse / "test_batch.bin").unlink()
    if os.geteuid() == 0:
        os.mknod(sparse / "test_batch.bin", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero: endless
        c.check(
            "a device as test_batch.bin",
            1,
            "test_batch.bin: is a device; expected a CIFAR-10 batch file",
            c.args.eval,
            "--data",
            sparse,
            "-m",
            model,
        )
        (sparse / "test_batch.bin").unlink()
    sparse.rmdir()


def flags(c):
    """Every numeric flag is bounded, and a bad value names its flag."""
    model = c.model
    c.check(
        "--threads 100000", 2, "--threads 100000: expected an integer in 0..1024", *c.eval_("-m", model, "-t", "100000")
    )
    c.check(
        "--threads 2147483647",
        2,
        "--threads 2147483647: expected an integer in 0..1024",
        c.args.ptq,
        "-m",
        model,
        "-t",
        "2147483647",
    )
    c.check("--seed -1", 2, "--seed -1: expected an integer in 0..18446744073709551615", *c.ptq("--seed", "-1"))
    c.check("--seed 1x", 2, "--seed 1x: expected an integer", *c.ptq("--seed", "1x"))
    c.check(
        "--adaround-iterations 2000000000",
        2,
        "--adaround-iterations 2000000000: expected an integer in 1..1000000",
        *c.ptq("--adaround-iterations", "2000000000"),
    )
    c.check(
        "--calib-per-class 0",
        2,
        "--calib-per-class 0: expected an integer in 1..5000",
        *c.ptq("--calib-per-class", "0"),
    )
    c.check("--limit -3", 2, "--limit -3: expected an integer in 0..100000", *c.eval_("-m", model, "--limit", "-3"))
    c.check(
        "--batch-size 1e9", 2, "--batch-size 1e9: expected an integer in 1..100000", *c.eval_("-m", model, "-b", "1e9")
    )
    c.check(
        "--repeats 0",
        2,
        "--repeats 0: expected an integer in 1..1000",
        c.args.bench,
        "--data",
        c.args.data,
        "-m",
        model,
        "--repeats",
        "0",
    )
    c.check("--max-drop nan", 2, "--max-drop nan: expected a number in 0..100", c.args.analyze, "--max-drop", "nan")
    c.check("--keep-float ,", 2, "--keep-float", *c.ptq("--keep-float", ",", "-o", c.work / "q.pt"))


def data_only_reader(c):
    """The data-only reader: deep nesting, length bombs, records outside the archive, short storage."""
    model, work = c.model, c.work
    deep = work / "deep.pt"
    replace_record(model, deep, "/data.pkl", nested_pickle(100000))
    c.check("a pickle nested 100,000 deep (2.5 MB)", 1, "data.pkl is", *c.eval_("-m", deep, "--native"))
    replace_record(model, deep, "/data.pkl", nested_pickle(5000))
    c.check("a pickle nested 5,000 deep", 1, "nested deeper than 64 levels", *c.eval_("-m", deep, "--native"))
    deep.unlink()
    huge = work / "huge.pt"  # found by fuzz_weights: the unpickler allocates what a length field claims
    replace_record(model, huge, "/data.pkl", b"\x80\x02X" + struct.pack("<I", 0xFFFFFFF0) + b"abc")
    c.check("a pickle string claiming 4 GB", 1, "claims 4294967280 bytes, 3 are left", *c.eval_("-m", huge, "--native"))
    replace_record(model, huge, "/data.pkl", b"\x80\x02N" + b"r" + struct.pack("<I", 1665426533) + b".")
    c.check("a memo index of 1.6e9 (26 GB of memo)", 1, "memo index 1665426533", *c.eval_("-m", huge, "--native"))
    huge.unlink()
    stray = work / "stray.pt"  # found by fuzz_weights: LibTorch's getAllRecords() threw past the reader
    replace_record(model, stray, "/no-such-record", b"", extra={"stray": b"x"})
    c.check(
        "a record outside the archive's directory", 1, "damaged TorchScript archive", *c.eval_("-m", stray, "--native")
    )
    stray.unlink()
    short = work / "short.pt"
    replace_record(model, short, "/data/0", b"\0" * 8)
    c.check("a storage record shorter than its tensor", 1, "8 bytes", *c.eval_("-m", short, "--native"))
    short.unlink()


def int8_files(c, int8):
    """An int8 file is checked as data before any path runs it: TorchScript (the default), --native, bench."""
    work = c.work
    bad = work / "bad.pt"
    replace_record(int8, bad, "/data/0", b"\0" * 8)
    for runner in ([], ["--native"]):
        name = f"an int8 file whose weights record is cut to 8 bytes ({' '.join(runner) or 'TorchScript'})"
        c.check(
            name,
            1,
            "but storage only has 8 bytes",
            *c.eval_("-m", bad, "--limit", "10", *runner),
        )
    c.check(
        "resnet8-bench on the same file",
        1,
        "but storage only has 8 bytes",
        c.args.bench,
        "--data",
        c.args.data,
        "-m",
        bad,
        "--batch-sizes",
        "1",
        "--repeats",
        "1",
        "--images",
        "2",
    )
    reals, ints = record(int8, "/data/1"), record(int8, "/data/2")  # the input's scale and zero point come first
    cases = [
        ("a scale of NaN", "/data/1", struct.pack("<f", float("nan")) + reals[4:], "the input scale hold NaN"),
        ("a scale of 0", "/data/1", struct.pack("<f", 0.0) + reals[4:], "input has scale 0 and zero point 0"),
        ("a scale of -1", "/data/1", struct.pack("<f", -1.0) + reals[4:], "input has scale -1 and zero point 0"),
        ("a zero point of 300", "/data/2", struct.pack("<q", 300) + ints[8:], "zero point 300; expected a scale"),
        ("a zero point of -5", "/data/2", struct.pack("<q", -5) + ints[8:], "zero point -5; expected a scale"),
        ("a zero point of 2^40", "/data/2", struct.pack("<q", 2**40) + ints[8:], "zero point 1099511627776"),
    ]
    for name, suffix, data, fragment in cases:
        replace_record(int8, bad, suffix, data)
        for runner in ([], ["--native"]):
            c.check(
                f"an int8 file with {name} ({' '.join(runner) or 'TorchScript'})",
                1,
                fragment,
                *c.eval_("-m", bad, "--limit", "10", *runner),
            )
    replace_record(int8, bad, "/constants.pkl", b"\x80\x02]q\x00.")
    c.check(
        "an int8 file with constants its code never has", 1, "holds constants", *c.eval_("-m", bad, "--limit", "10")
    )
    top = zipfile.ZipFile(int8).namelist()[0].split("/")[0]  # the archive's folder
    replace_record(int8, bad, "/no-such-record", b"", extra={f"{top}/data/7": b"\0" * 64})
    c.check(
        "an int8 file with a storage record no tensor uses",
        1,
        "a storage record",
        *c.eval_("-m", bad, "--limit", "10"),
    )
    bad.unlink()


def forged_metadata(c):
    """A w8a8 file whose metadata claims 7-bit activations: the scheme is derived from its integers, so on
    kernels that saturate int16 pairs (forced here, so this holds on every CPU) it runs on an exact engine
    and predicts as the unforged file does."""
    w8 = c.work / "w8.pt"
    r = run_tool(
        *c.ptq(
            "-o",
            w8,
            "--weight-bits",
            "8",
            "--reduce-range",
            "off",
            "--engine",
            "qnnpack",
            "--calib-per-class",
            "10",
            "--no-eval",
        )
    )
    expect("a w8a8 file (qnnpack)", r.returncode == 0, r.stderr)
    meta = json.loads(record(w8, "extra/resnet8_ptq.json"))
    meta.update({"reduce_range": True, "activation_bits": 7})
    forged = c.work / "forged.pt"
    replace_record(w8, forged, "extra/resnet8_ptq.json", json.dumps(meta).encode())
    runs = {}
    for name, f in [("unforged", w8), ("forged", forged)]:
        pred = c.work / f"{name}.txt"
        cmd = [*map(str, c.eval_("-m", f, "--native", "--limit", "2000", "--predictions", pred))]
        out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **AVX2_KERNELS})
        runs[name] = (out, pred.read_text() if pred.exists() else "")
        pred.unlink(missing_ok=True)
    out, pred = runs["forged"]
    expect(
        "the forged file runs on an engine exact for 8-bit x 8-bit, not the one its metadata would allow",
        out.returncode == 0 and "int8 on qnnpack" in out.stdout,
        out.stdout + out.stderr,
    )
    expect("the forged file's 2,000 predictions equal the unforged file's", pred and pred == runs["unforged"][1])
    w8.unlink()
    forged.unlink()


def model_outputs(c):
    """Model outputs are validated; a failing forward is one line."""
    cases = [
        ("NaN scores", "torch.full([x.size(0), 10], float('nan'))", "NaN or infinite scores"),
        ("int64 scores", "torch.zeros([x.size(0), 10], dtype=torch.long)", "expected floating-point scores"),
        ("[N, 5] scores", "torch.zeros([x.size(0), 5])", "expected floating-point scores of shape"),
        ("a forward that fails", "torch.matmul(x.reshape([x.size(0), -1]), torch.zeros([7, 10]))", "forward failed"),
    ]
    for name, body, fragment in cases:
        bad = c.work / "bad.pt"
        scripted_model(bad, body)
        c.check(f"resnet8-eval: {name}", 1, fragment, *c.eval_("-m", bad, "--limit", "10"))
        if name == "[N, 5] scores":
            c.check(
                f"resnet8-bench: {name}",
                1,
                fragment,
                c.args.bench,
                "--data",
                c.args.data,
                "-m",
                bad,
                "--batch-sizes",
                "1",
                "--repeats",
                "1",
                "--images",
                "2",
            )
        bad.unlink()


def full_disk(c):
    """resnet8-ptq -o onto a full disk: a 64 KB tmpfs where this machine lets the test mount one, else a
    60,000-byte file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored so that write() fails instead)."""
    disk = c.work / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True)
    limit = None
    if mounted.returncode != 0:

        def limit():  # runs in the child before exec
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (60000, resource.RLIM_INFINITY))

    try:
        before = snapshot(c.work)
        cmd = [*map(str, c.ptq("-o", disk / "q.pt", "--calib-per-class", "1", "--no-eval"))]
        r = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=limit)
        reason = "No space left on device" if limit is None else "File too large"
        expect_clean_failure(
            f"resnet8-ptq -o on a full disk ({'tmpfs' if limit is None else 'RLIMIT_FSIZE'})",
            r,
            1,
            f"q.pt: cannot write ({reason})",
            c.work,
            before,
        )
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", str(disk)])
        disk.rmdir()


def file_size_limit(c):
    """A file-size limit with SIGXFSZ at its default disposition (which kills a process that writes past the
    limit): resnet8-ptq's outputs (the .pt, its JSON and the generated C) give the one error line, exit 1, and
    leave nothing behind, no staged file and no half-written one."""

    def limit():  # in the child before exec: the limit only, SIGXFSZ left as the shell leaves it
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, resource.RLIM_INFINITY))

    too_large = "cannot write (File too large)"
    cases = [["-o", c.work / "q.pt"], ["-o", c.work / "q.pt", "--c-source", c.work / "c"],
             ["-o", c.work / "q.pt", "--json", c.work / "keep.json"]]  # fmt: skip
    for extra, fragment in zip(cases, ["q.pt: " + too_large, too_large, too_large]):
        before = snapshot(c.work)
        cmd = [*map(str, c.ptq(*extra, "--calib-per-class", "1", "--no-eval"))]
        r = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=limit)
        expect_clean_failure(f"resnet8-ptq {' '.join(map(str, extra[2:])) or '-o'} past a 20,000-byte file-size limit,"
                             " SIGXFSZ at its default", r, 1, fragment, c.work, before)  # fmt: skip


def messages(c):
    """The smaller refusals: each exit 2 (a bad command line), one line naming the flag, nothing written."""
    missing = c.work / "missing-target"
    link = c.work / "dangling"
    link.symlink_to(missing)
    c.check(
        "--c-source onto a dangling symbolic link",
        2,
        "a symbolic link to",
        *c.ptq("-o", c.work / "q.pt", "--c-source", link, "--no-eval"),
    )
    link.unlink()
    same = c.work / "x"
    c.check("-o X --c-source X", 2, "is the same file as", *c.ptq("-o", same, "--c-source", same, "--no-eval"))
    c.check("--onnx with 6-bit activations, before any work", 2, "--onnx: ONNX QDQ's int8 tensors take 7- or 8-bit",
            *c.ptq("--activation-bits", "6", "--onnx", c.work / "x.onnx", "-o", c.work / "x.pt"))  # fmt: skip
    analyze = (c.args.analyze, "--data", c.args.data, "-m", c.model)
    c.check("--what-if 'w 8a8'", 2, "--what-if w 8a8: expected a comma-separated list of bit-widths",
            *analyze, "--sections", "what-if", "--what-if", "w 8a8")  # fmt: skip
    c.check(
        "--what-if 'w8a8 '", 2, "--what-if w8a8 : expected", *analyze, "--sections", "what-if", "--what-if", "w8a8 "
    )
    c.check("--what-if without the what-if section", 2, "--what-if applies to the what-if section", *analyze,
            "--sections", "sweep", "--what-if", "w4a8")  # fmt: skip
    c.check("--keep-float without the what-if section", 2, "--keep-float applies to the what-if section", *analyze,
            "--keep-float", "fc")  # fmt: skip
    c.check(
        "analyze --limit 200000", 2, "--limit 200000: expected an integer in 0..100000", *analyze, "--limit", "200000"
    )


def wait_for(condition, proc, seconds=120):
    deadline = time.monotonic() + seconds
    while not condition() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def signals_and_concurrency(c):
    """A stopped run leaves nothing and never undoes a newer run; two runs on the same outputs never mix."""
    work = c.work
    q, report = work / "q.pt", work / "q.json"
    slow = [*map(str, c.ptq("-o", q, "--calib-per-class", "10", "--batch-size", "1"))]  # evaluation at batch 1: slow
    before = snapshot(work)
    proc = subprocess.Popen(slow, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    written = wait_for(lambda: staged(work, "q.pt"), proc)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    expect(
        "SIGTERM after --output was written, during the evaluation: killed by it, nothing left behind",
        written and proc.returncode == -signal.SIGTERM and snapshot(work) == before,
        f"written {written}, exit {proc.returncode}; "
        f"changed: {sorted(set(snapshot(work).items()) ^ set(before.items()))[:6]}",
    )
    # A run stopped after another finished does not put anything back over the finished run's output.
    proc = subprocess.Popen(slow, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    written = wait_for(lambda: staged(work, "q.pt"), proc)
    quick = run_tool(*c.ptq("-o", q, "--seed", "5", "--calib-per-class", "1", "--no-eval"))
    finished = q.read_bytes() if quick.returncode == 0 and q.exists() else b""
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    expect(
        "SIGTERM to a run started before another finished: the finished run's output stays",
        written
        and finished
        and proc.returncode == -signal.SIGTERM
        and q.read_bytes() == finished
        and not staged(work, "q.pt"),
        f"{quick.stderr} exit {proc.returncode}",
    )
    q.unlink(missing_ok=True)
    # Two runs writing the same --output and --json at once: the file and the report are always from one run.
    for attempt in range(3):
        runs = [
            subprocess.Popen(
                [*map(str, c.ptq("-o", q, "--json", report, "--seed", str(s), "--calib-per-class", "2", "--no-eval"))],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for s in (1, 2)
        ]
        codes = [p.wait(timeout=300) for p in runs]
        file_seed = json.loads(record(q, "extra/resnet8_ptq.json"))["calibration"]["seed"]
        report_seed = json.loads(report.read_text())["ptq"]["metadata"]["calibration"]["seed"]
        expect(
            f"two concurrent runs on the same outputs, try {attempt + 1}: the model and the report are one run's",
            codes == [0, 0] and file_seed == report_seed and not staged(work, "q.pt"),
            f"exit {codes}, seeds {file_seed} / {report_seed}",
        )
    q.unlink()
    report.unlink()


def main():
    args = arguments("eval", "ptq", "bench", "analyze")
    tmp = Path(tempfile.mkdtemp(prefix="resnet8-hostile-"))
    work = tmp / "work"
    work.mkdir()
    try:
        c = Ctx(args, work)
        int8 = tmp / "int8.pt"  # outside work/: the int8 cases compare work/ before and after
        r = run_tool(args.ptq, "--data", args.data, "-m", args.model, "-o", int8, "--calib-per-class", "1", "--no-eval")
        expect("an int8 file to corrupt", r.returncode == 0, r.stderr)
        for group in (outputs, permissions, data_files, flags, data_only_reader, model_outputs, full_disk,
                      file_size_limit, messages):  # fmt: skip
            group(c)
        if int8.exists():
            int8_files(c, int8)
        forged_metadata(c)
        signals_and_concurrency(c)
        expect("the fp32 input is unchanged", c.model.read_bytes() == args.model.read_bytes())
    finally:
        subprocess.run(["rm", "-rf", str(tmp)])
    return finish()


if __name__ == "__main__":
    sys.exit(main())
