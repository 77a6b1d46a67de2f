#!/usr/bin/env python3
"""Put the MLPerf Tiny ResNet8 model files into data/, SHA-256 verified: the pretrained Keras model
(pretrainedResnet.h5, what resnet8 converts) and the reference int8 TFLite model
(pretrainedResnet_quant.tflite, a peer that scripts/quant_report.py evaluates).

Sources, in order: the file already in place; a local copy (--local, default ../shared/models/ beside
the repository); the upstream URL in the mlcommons/tiny repository.
"""

import argparse
import shutil
import tempfile
import urllib.request
from pathlib import Path

from common import REPO, die, digest, say

UPSTREAM = "https://github.com/mlcommons/tiny/raw/master/benchmark/training/image_classification/trained_models/"
FILES = {
    "pretrainedResnet.h5": "5f938a8eea605438cc7360aa13c987bc6d7bd0c8d931b2917361ae7ae4eeda2f",
    "pretrainedResnet_quant.tflite": "3c002613d1b2475eb51dd78dfb85a546c8ae658dee71cf6ade43b022fe205415",
}


def install(name, sha256, data_dir, local_dir, timeout):
    target = data_dir / name
    if target.is_file() and digest(target, "sha256") == sha256:
        say(f"model: {target} present, SHA-256 verified")
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=data_dir, prefix=f".{name}.", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        local = local_dir / name
        if local.is_file():
            say(f"model: copying {local}")
            shutil.copyfile(local, tmp_path)
        else:
            say(f"model: {local} not found; downloading {UPSTREAM + name}")
            try:
                with urllib.request.urlopen(UPSTREAM + name, timeout=timeout) as r:
                    tmp_path.write_bytes(r.read())
            except Exception as e:
                die(f"cannot download {UPSTREAM + name} ({e}); put a copy of {name} at {local}")
        got = digest(tmp_path, "sha256")
        if got != sha256:
            die(f"{name}: SHA-256 {got} != expected {sha256}; refusing to install it")
        tmp_path.chmod(0o644)
        tmp_path.replace(target)
    finally:
        tmp_path.unlink(missing_ok=True)
    say(f"model: {target} installed, SHA-256 verified")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", type=Path, default=REPO / "data", help="default: %(default)s")
    ap.add_argument(
        "--local",
        type=Path,
        default=REPO.parent / "shared" / "models",
        help="a directory with local copies to use before the network (default: %(default)s)",
    )
    ap.add_argument("--timeout", type=float, default=15, help="seconds to wait for the upstream URL")
    args = ap.parse_args()
    for name, sha256 in FILES.items():
        install(name, sha256, args.data_dir, args.local, args.timeout)


if __name__ == "__main__":
    main()
