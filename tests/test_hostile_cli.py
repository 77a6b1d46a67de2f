#!/usr/bin/env python3
"""The tools against hostile and careless input: each case must end in one clear error line with exit 1
or 2, leave the scratch directory exactly as it was, and never change an input."""

import hashlib
import os
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


def main():
    args = arguments("eval", "ptq", "bench", "analyze")
    tmp = Path(tempfile.mkdtemp(prefix="resnet8-hostile-"))
    work = tmp / "work"
    work.mkdir()
    model = work / "fp32.pt"
    model.write_bytes(args.model.read_bytes())

    def check(name, code, fragment, tool, *a):
        before = snapshot(work)
        expect_clean_failure(name, run_tool(tool, *map(str, a)), code, fragment, work, before)

    def eval_(*a):
        return (args.eval, "--data", args.data, "--threads", "2", *a)

    try:
        # 1. Outputs that are not regular files are never replaced.
        fifo = work / "fifo"
        os.mkfifo(fifo)
        check("--json onto a FIFO", 1, "not a regular file", *eval_("-m", model, "--limit", "10", "--json", fifo))
        if os.geteuid() == 0:
            dev = work / "null"
            os.mknod(dev, stat.S_IFCHR | 0o600, os.makedev(1, 3))
            check(
                "--predictions onto a device node",
                1,
                "not a regular file",
                *eval_("-m", model, "--limit", "10", "--predictions", dev),
            )
        link = work / "link.json"
        link.symlink_to(work / "target.json")
        check("--json onto a symlink", 1, "symbolic link", *eval_("-m", model, "--limit", "10", "--json", link))
        check(
            "--output onto a symlink",
            1,
            "symbolic link",
            args.ptq,
            "--data",
            args.data,
            "-m",
            model,
            "-o",
            link,
            "--no-eval",
        )

        # 2. An output never overwrites an input or another output, however the path is spelled.
        check(
            "ptq -o = -m",
            2,
            "same file as the input --model",
            args.ptq,
            "--data",
            args.data,
            "-m",
            model,
            "-o",
            work / ".." / "work" / "fp32.pt",
            "--no-eval",
        )
        check(
            "ptq --json = -m",
            2,
            "same file as the input --model",
            args.ptq,
            "--data",
            args.data,
            "-m",
            model,
            "-o",
            work / "q.pt",
            "--json",
            model,
            "--no-eval",
        )
        check(
            "ptq --json = -o",
            2,
            "is the same file as --output",
            args.ptq,
            "--data",
            args.data,
            "-m",
            model,
            "-o",
            work / "q.pt",
            "--json",
            work / "q.pt",
            "--no-eval",
        )
        check(
            "eval --json = --predictions",
            2,
            "is the same file as --json",
            *eval_("-m", model, "--json", work / "r", "--predictions", work / "r"),
        )
        check(
            "eval --json = a data batch",
            2,
            "same file as the input --data",
            *eval_("-m", model, "--json", args.data / "test_batch.bin"),
        )

        # 3. A failure after an output was written removes it again.
        data = work / "data"
        data.mkdir()
        for k in range(1, 6):
            (data / f"data_batch_{k}.bin").symlink_to(args.data / f"data_batch_{k}.bin")
        (data / "test_batch.bin").write_bytes(b"\0" * 3072)
        check(
            "ptq fails on the test batch after writing --output",
            1,
            "test_batch.bin",
            args.ptq,
            "--data",
            data,
            "-m",
            model,
            "-o",
            work / "q.pt",
            "--calib-per-class",
            "1",
            "--threads",
            "2",
        )

        sparse = work / "sparse"
        sparse.mkdir()
        with open(sparse / "test_batch.bin", "wb") as f:  # 3 GB of nothing: 1,000,000 records
            f.truncate(3073 * 1000000)
        check(
            "a huge sparse test batch",
            1,
            "1000000 records; a CIFAR-10 batch file has 10000",
            args.eval,
            "--data",
            sparse,
            "-m",
            model,
        )
        (sparse / "test_batch.bin").unlink()
        sparse.rmdir()

        # 4. Thread counts are bounded.
        check("--threads 100000", 2, "--threads must be <= 1024", *eval_("-m", model, "-t", "100000"))
        check("--threads 2147483647", 2, "--threads must be <= 1024", args.ptq, "-m", model, "-t", "2147483647")
        check("--keep-float ,", 2, "--keep-float", args.ptq, "-m", model, "--keep-float", ",", "-o", work / "q.pt")

        # 5. The data-only reader: deep nesting and short storage records.
        deep = work / "deep.pt"
        replace_record(model, deep, "/data.pkl", nested_pickle(100000))
        check("a pickle nested 100,000 deep (2.5 MB)", 1, "data.pkl is", *eval_("-m", deep, "--native"))
        replace_record(model, deep, "/data.pkl", nested_pickle(5000))
        check("a pickle nested 5,000 deep", 1, "nested deeper than 64 levels", *eval_("-m", deep, "--native"))
        huge = work / "huge.pt"  # found by fuzz_weights: the unpickler allocates what a length field claims
        replace_record(model, huge, "/data.pkl", b"\x80\x02X" + struct.pack("<I", 0xFFFFFFF0) + b"abc")
        check("a pickle string claiming 4 GB", 1, "claims 4294967280 bytes, 3 are left", *eval_("-m", huge, "--native"))
        replace_record(model, huge, "/data.pkl", b"\x80\x02N" + b"r" + struct.pack("<I", 1665426533) + b".")
        check("a memo index of 1.6e9 (26 GB of memo)", 1, "memo index 1665426533", *eval_("-m", huge, "--native"))
        huge.unlink()
        stray = work / "stray.pt"  # found by fuzz_weights: LibTorch's getAllRecords() threw past the reader
        replace_record(model, stray, "/no-such-record", b"", extra={"stray": b"x"})
        check(
            "a record outside the archive's directory",
            1,
            "damaged TorchScript archive",
            *eval_("-m", stray, "--native"),
        )
        stray.unlink()
        short = work / "short.pt"
        replace_record(model, short, "/data/0", b"\0" * 8)
        check("a storage record shorter than its tensor", 1, "8 bytes", *eval_("-m", short, "--native"))

        # 6. Model outputs are validated; a failing forward is one line.
        for name, body, fragment in [
            ("NaN scores", "torch.full([x.size(0), 10], float('nan'))", "NaN or infinite scores"),
            ("int64 scores", "torch.zeros([x.size(0), 10], dtype=torch.long)", "expected floating-point scores"),
            ("[N, 5] scores", "torch.zeros([x.size(0), 5])", "expected floating-point scores of shape"),
            (
                "a forward that fails",
                "torch.matmul(x.reshape([x.size(0), -1]), torch.zeros([7, 10]))",
                "the model's forward failed",
            ),
        ]:
            bad = work / "bad.pt"
            scripted_model(bad, body)
            check(f"resnet8-eval: {name}", 1, fragment, *eval_("-m", bad, "--limit", "10"))
            if name == "[N, 5] scores":
                check(
                    f"resnet8-bench: {name}",
                    1,
                    fragment,
                    args.bench,
                    "--data",
                    args.data,
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

        # 7. A signal mid-run leaves nothing behind: sent once --output is in place, during the evaluation
        # (batch size 1 keeps it going for seconds on any CPU), so the written file must be taken back.
        before = snapshot(work)
        proc = subprocess.Popen(
            [
                str(args.ptq),
                "--data",
                str(args.data),
                "-m",
                str(model),
                "-o",
                str(work / "q.pt"),
                "--threads",
                "2",
                "--calib-per-class",
                "10",
                "--batch-size",
                "1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while not (work / "q.pt").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        written = (work / "q.pt").exists()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        expect(
            "SIGTERM during resnet8-ptq after --output was written: killed by the signal, nothing left behind",
            written and proc.returncode == -signal.SIGTERM and snapshot(work) == before,
            f"written {written}, exit {proc.returncode}; "
            f"changed: {sorted(set(snapshot(work).items()) ^ set(before.items()))[:6]}",
        )
        expect("the fp32 input is unchanged", model.read_bytes() == args.model.read_bytes())
    finally:
        subprocess.run(["rm", "-rf", str(tmp)])
    return finish()


if __name__ == "__main__":
    sys.exit(main())
