#!/usr/bin/env python3
"""Export the Keras ResNet8 (.h5) to the fp32 TorchScript file the C++ tools read.

Reads the weights with h5py (no TensorFlow), builds the same network in PyTorch and saves it with
torch.jit.script. The exported module has the Keras model's interface: NHWC float32 input with
raw 0..255 pixels, softmax probabilities out. Parameter names are those of the C++ resnet8::ResNet8
module (stem.conv.weight, stack2.bn1.running_var, fc.bias, ...), so the native path can load them.

Keras 'same' padding: stride-1 3x3 convolutions pad 1 on each side; stride-2 3x3 convolutions on an
even-sized input pad 0 before and 1 after (done here with an explicit pad); 1x1 stride-2 shortcuts
pad nothing.
"""

import argparse
import io
import sys
from pathlib import Path

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from common import REPO, die, say, write_atomic
from torch import nn

BN_EPS = 1e-3  # Keras default


class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16, eps=BN_EPS)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Stack(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1 if stride == 1 else 0)
        self.bn1 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride) if stride != 1 else nn.Identity()

    def forward(self, x):
        y = x
        if self.stride == 2:
            y = F.pad(y, [0, 1, 0, 1])  # TensorFlow 'same' for an even input: 0 before, 1 after
        y = F.relu(self.bn1(self.conv1(y)))
        y = self.bn2(self.conv2(y))
        return F.relu(self.shortcut(x) + y)


class ResNet8(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = Stem()
        self.stack1 = Stack(16, 16, 1)
        self.stack2 = Stack(16, 32, 2)
        self.stack3 = Stack(32, 64, 2)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = x.permute(0, 3, 1, 2)  # NHWC -> NCHW (a view with channels-last strides)
        x = self.stem(x)
        x = self.stack3(self.stack2(self.stack1(x)))
        x = x.mean(dim=(2, 3))  # AveragePooling2D(8x8) + Flatten
        return F.softmax(self.fc(x), dim=1)


# Keras layer -> module path in ResNet8
CONVS = {
    "conv2d": "stem.conv",
    "conv2d_1": "stack1.conv1",
    "conv2d_2": "stack1.conv2",
    "conv2d_3": "stack2.conv1",
    "conv2d_4": "stack2.conv2",
    "conv2d_5": "stack2.shortcut",
    "conv2d_6": "stack3.conv1",
    "conv2d_7": "stack3.conv2",
    "conv2d_8": "stack3.shortcut",
}
BNS = {
    "batch_normalization": "stem.bn",
    "batch_normalization_1": "stack1.bn1",
    "batch_normalization_2": "stack1.bn2",
    "batch_normalization_3": "stack2.bn1",
    "batch_normalization_4": "stack2.bn2",
    "batch_normalization_5": "stack3.bn1",
    "batch_normalization_6": "stack3.bn2",
}


def keras_state_dict(h5_path):
    """Map the .h5 weights onto ResNet8's state_dict names, in PyTorch layouts."""
    sd = {}
    with h5py.File(h5_path, "r") as f:
        w = f["model_weights"]

        def get(layer, name):
            key = f"{layer}/{layer}/{name}:0"
            if key not in w:
                die(f"{h5_path}: missing weight model_weights/{key}")
            return torch.from_numpy(np.asarray(w[key], dtype=np.float32))

        for layer, path in CONVS.items():
            sd[f"{path}.weight"] = get(layer, "kernel").permute(3, 2, 0, 1).contiguous()  # HWIO -> OIHW
            sd[f"{path}.bias"] = get(layer, "bias")
        for layer, path in BNS.items():
            sd[f"{path}.weight"] = get(layer, "gamma")
            sd[f"{path}.bias"] = get(layer, "beta")
            sd[f"{path}.running_mean"] = get(layer, "moving_mean")
            sd[f"{path}.running_var"] = get(layer, "moving_variance")
            sd[f"{path}.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
        sd["fc.weight"] = get("dense", "kernel").t().contiguous()
        sd["fc.bias"] = get("dense", "bias")
    return sd


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--h5", type=Path, default=REPO / "data" / "pretrainedResnet.h5")
    ap.add_argument("--output", type=Path, default=REPO / "data" / "resnet8_fp32.pt")
    args = ap.parse_args()
    if not args.h5.is_file():
        die(f"{args.h5}: not found (run scripts/fetch_model.py first)")

    model = ResNet8().eval()
    missing = model.load_state_dict(keras_state_dict(args.h5), strict=True)
    assert not missing.missing_keys and not missing.unexpected_keys
    scripted = torch.jit.script(model)
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    write_atomic(args.output, buf.getvalue())
    say(
        f"export: {args.output} written ({args.output.stat().st_size:,} bytes, "
        f"{sum(p.numel() for p in model.parameters()):,} parameters)"
    )


if __name__ == "__main__":
    sys.exit(main())
