#!/usr/bin/env python3
"""Put the pretrained MLPerf Tiny ResNet8 Keras model at data/pretrainedResnet.h5, SHA-256 verified.

Sources, in order: the file already in place; a local copy (--local, default ../shared/models/
beside the repository); the upstream URL in the mlcommons/tiny repository.
"""
import argparse
import shutil
import tempfile
import urllib.request
from pathlib import Path

from common import REPO, die, digest, say

NAME = "pretrainedResnet.h5"
SHA256 = "5f938a8eea605438cc7360aa13c987bc6d7bd0c8d931b2917361ae7ae4eeda2f"
UPSTREAM = ("https://github.com/mlcommons/tiny/raw/master/benchmark/training/"
            "image_classification/trained_models/pretrainedResnet.h5")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", type=Path, default=REPO / "data", help="default: %(default)s")
    ap.add_argument("--local", type=Path, default=REPO.parent / "shared" / "models" / NAME,
                    help="a local copy to use before the network (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=15, help="seconds to wait for the upstream URL")
    args = ap.parse_args()

    target = args.data_dir / NAME
    if target.is_file() and digest(target, "sha256") == SHA256:
        say(f"model: {target} present, SHA-256 verified")
        return
    args.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=args.data_dir, prefix=f".{NAME}.", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        if args.local.is_file():
            say(f"model: copying {args.local}")
            shutil.copyfile(args.local, tmp_path)
        else:
            say(f"model: {args.local} not found; downloading {UPSTREAM}")
            try:
                with urllib.request.urlopen(UPSTREAM, timeout=args.timeout) as r:
                    tmp_path.write_bytes(r.read())
            except Exception as e:
                die(f"cannot download {UPSTREAM} ({e}); put a copy of {NAME} at {args.local}")
        got = digest(tmp_path, "sha256")
        if got != SHA256:
            die(f"{NAME}: SHA-256 {got} != expected {SHA256}; refusing to install it")
        tmp_path.chmod(0o644)
        tmp_path.replace(target)
    finally:
        tmp_path.unlink(missing_ok=True)
    say(f"model: {target} installed, SHA-256 verified")


if __name__ == "__main__":
    main()
