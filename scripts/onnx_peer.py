"""The ONNX side shared by bench_peers.py and quant_report.py: the fp32 export of the same weights,
ONNX Runtime's own static quantization on resnet8-ptq's calibration images, and CIFAR-10 arrays."""

import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from common import REPO, write_atomic


def test_set(data_dir):
    """(NHWC uint8 images, int64 labels) of the 10,000 test images."""
    raw = np.fromfile(Path(data_dir) / "test_batch.bin", dtype=np.uint8).reshape(-1, 3073)
    return np.ascontiguousarray(raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)), raw[:, 0].astype(np.int64)


def train_images(data_dir, indices):
    raw = np.concatenate(
        [np.fromfile(Path(data_dir) / f"data_batch_{k}.bin", dtype=np.uint8).reshape(-1, 3073) for k in range(1, 6)]
    )[indices]
    return np.ascontiguousarray(raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)).astype(np.float32)


def calibration_indices(build_dir, data_dir, work_dir):
    """The indices of resnet8-ptq's default calibration sample (100 per class, seed 0), from its JSON."""
    report = Path(work_dir) / "ptq_indices.json"
    subprocess.run(
        [
            str(Path(build_dir) / "resnet8-ptq"),
            "--no-eval",
            "--output",
            str(Path(work_dir) / "indices.pt"),
            "--data",
            str(data_dir),
            "--json",
            str(report),
        ],
        check=True,
        capture_output=True,
    )
    return json.loads(report.read_text())["calibration_indices"]


def python_model():
    sys.path.insert(0, str(REPO / "scripts"))
    from export_torchscript import ResNet8, keras_state_dict

    m = ResNet8().eval()
    m.load_state_dict(keras_state_dict(REPO / "data" / "pretrainedResnet.h5"))
    return m


def export_onnx(model, path):
    import torch

    buf = io.BytesIO()
    torch.onnx.export(
        model,
        torch.zeros(1, 32, 32, 3),
        buf,
        input_names=["x"],
        output_names=["probs"],
        dynamic_axes={"x": {0: "n"}, "probs": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    write_atomic(path, buf.getvalue())


def quantize_onnx(
    fp32_path,
    out_path,
    calibration,
    activations="QUInt8",
    weights="QInt8",
    per_channel=False,
    method="MinMax",
    reduce_range=False,
):
    """ONNX Runtime quantize_static: QDQ format; method MinMax, Percentile or Entropy; reduce_range is
    ONNX Runtime's documented remedy for int8 on CPUs without VNNI (7-bit weights)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"x": calibration[i : i + 100]} for i in range(0, len(calibration), 100)])

        def get_next(self):
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "q.onnx"
        quantize_static(
            str(fp32_path),
            str(out),
            Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=getattr(QuantType, activations),
            weight_type=getattr(QuantType, weights),
            per_channel=per_channel,
            reduce_range=reduce_range,
            calibrate_method=getattr(CalibrationMethod, method),
        )
        write_atomic(out_path, out.read_bytes())


def ort_session(path, threads):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1")  # its default, said: the fastest at batch 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
