#!/usr/bin/env python3
"""Seed corpora for the libFuzzer targets (tests/fuzz), made from the real files in data/:
OUT/fuzz_cifar10/ (whole and cut CIFAR-10 records), OUT/fuzz_weights/ (the fp32 export, a tiny
TorchScript module, a module whose state is a tuple (as int8 files have), and the export with its
data.pkl cut) and OUT/fuzz_tflite/ (the MLPerf Tiny reference .tflite, whole and cut)."""

import io
import sys
import zipfile
from pathlib import Path

from common import REPO, die


def tuple_state_module():
    import torch

    class TupleState(torch.nn.Module):
        """Flat state as a tuple, like resnet8-ptq's int8 files: packed bytes, floats, integers."""

        def __init__(self):
            super().__init__()
            self.qweights = torch.arange(12, dtype=torch.uint8)
            self.reals = torch.ones(5)
            self.ints = torch.zeros(3, dtype=torch.long)

        @torch.jit.export
        def __getstate__(self):
            return (self.qweights, self.reals, self.ints, self.training)

        @torch.jit.export
        def __setstate__(self, state: tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]):
            self.qweights, self.reals, self.ints, self.training = state

        def forward(self, x):
            return x

    return TupleState


def main():
    if len(sys.argv) != 2:
        die("usage: fuzz_corpus.py OUT_DIR")
    out = Path(sys.argv[1])
    batch = REPO / "data" / "cifar-10-batches-bin" / "test_batch.bin"
    export = REPO / "data" / "resnet8_fp32.pt"
    for f in (batch, export):
        if not f.exists():
            die(f"{f} is missing: run scripts/setup.sh first")

    cifar = out / "fuzz_cifar10"
    cifar.mkdir(parents=True, exist_ok=True)
    records = batch.read_bytes()[: 3 * 3073]
    seeds = {
        "empty": b"",
        "one_record": records[:3073],
        "three_records": records,
        "cut_record": records[: 3072 + 5],
        "bad_label": b"\x0b" + records[1:3073],
    }
    for name, data in seeds.items():
        (cifar / name).write_bytes(data)

    weights = out / "fuzz_weights"
    weights.mkdir(parents=True, exist_ok=True)
    (weights / "resnet8_fp32.pt").write_bytes(export.read_bytes())
    import torch

    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(torch.nn.Sequential(torch.nn.Linear(2, 2))), buf)
    (weights / "tiny_module.pt").write_bytes(buf.getvalue())
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(tuple_state_module()()), buf)
    (weights / "tuple_state.pt").write_bytes(buf.getvalue())
    cut = io.BytesIO()
    with zipfile.ZipFile(export) as zin, zipfile.ZipFile(cut, "w", zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item.filename, data[: len(data) // 2] if item.filename.endswith("data.pkl") else data)
    (weights / "cut_pickle.pt").write_bytes(cut.getvalue())

    tflite = out / "fuzz_tflite"  # the MLPerf Tiny reference model, whole and cut
    tflite.mkdir(parents=True, exist_ok=True)
    reference = (REPO / "data" / "pretrainedResnet_quant.tflite").read_bytes()
    (tflite / "reference.tflite").write_bytes(reference)
    (tflite / "cut.tflite").write_bytes(reference[: len(reference) // 3])
    (tflite / "header.tflite").write_bytes(reference[:64])
    print(f"seed corpora in {out}: {len(seeds)} CIFAR-10 files, 4 TorchScript files, 3 TFLite files")


if __name__ == "__main__":
    main()
