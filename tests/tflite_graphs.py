#!/usr/bin/env python3
"""A seeded generator of small random int8 TFLite graphs over every operator and option the .tflite reader
accepts, for the differential test against TensorFlow Lite Micro (tests/test_tflm_diff.py).

Every graph takes an int8 [1, 32, 32, 3] input and ends in an int8 [1, 10] output, as the integer program
requires, and draws its body from:
  CONV_2D     kernels 1..5, strides 1..3, SAME or VALID, INT8 or INT4 weights, per-tensor or per-channel
              scales, NONE / RELU / RELU6;
  ADD         residual (a convolution's output plus an earlier tensor), chains (conv -> ADD -> ADD), inputs
              that are RESHAPE views or the graph's output, with NONE / RELU / RELU6;
  AVERAGE_POOL_2D, MEAN (keep_dims or not), RESHAPE, FULLY_CONNECTED (per tensor or per channel, INT4 per
  tensor), SOFTMAX over one row or several;
with activation scales and zero points across the whole accepted range (extremes drawn now and then), so
that some graphs are ones the tools must refuse. Graph(seed).build() gives the .tflite bytes; the same seed
gives the same bytes.

  .venv/bin/python tests/tflite_graphs.py OUT_DIR FIRST_SEED COUNT     # writes OUT_DIR/graph_<seed>.tflite
"""

import os
import sys
from pathlib import Path

import numpy as np


def schema():
    """The TFLite schema's Python classes, as LiteRT (ai-edge-litert) ships them."""
    import ai_edge_litert

    sys.path.insert(0, os.path.dirname(ai_edge_litert.__file__))
    import schema_py_generated

    return schema_py_generated


S = schema()
ACTIVATIONS = [S.ActivationFunctionType.NONE, S.ActivationFunctionType.RELU, S.ActivationFunctionType.RELU6]


class Graph:
    """One random graph: tensors, buffers and operators built through the schema's object API."""

    def __init__(self, seed):
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.tensors, self.buffers, self.operators, self.codes = [], [S.BufferT()], [], []
        self.extreme = self.rng.random() < 0.15  # now and then, scales far outside what a model has

    # --- parameters -----------------------------------------------------------------------------------
    def scale(self):
        if self.extreme and self.rng.random() < 0.3:
            return float(self.rng.choice([1e-30, 1e-12, 3e-9, 1e-6, 1e3, 1e6, 1e12, 3.4e38]))
        return float(np.exp(self.rng.uniform(np.log(1e-3), np.log(2.0))))

    def zero_point(self):
        return int(self.rng.choice([-128, 127])) if self.rng.random() < 0.1 else int(self.rng.integers(-128, 128))

    def activation_function(self):
        return int(self.rng.choice(ACTIVATIONS))

    # --- tensors --------------------------------------------------------------------------------------
    def tensor(self, shape, type_, quant=None, data=None, name=None):
        t = S.TensorT()
        t.shape, t.type = list(shape), type_
        t.name = (name or f"t{len(self.tensors)}").encode()
        if quant is not None:
            q = S.QuantizationParametersT()
            q.scale = [float(np.float32(min(float(x), 3.4028234e38))) for x in quant[0]]  # float32, as stored
            q.zeroPoint = [int(x) for x in quant[1]]
            q.quantizedDimension = quant[2] if len(quant) > 2 else 0
            t.quantization = q
        if data is not None:
            b = S.BufferT()
            b.data = np.frombuffer(data, dtype=np.uint8).tolist()
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        self.tensors.append(t)
        return len(self.tensors) - 1

    def activation(self, shape, scale=None, zero_point=None):
        scale = self.scale() if scale is None else scale
        zero_point = self.zero_point() if zero_point is None else zero_point
        return self.tensor(shape, S.TensorType.INT8, ([scale], [zero_point]))

    def shape(self, t):
        return list(self.tensors[t].shape)

    def quant(self, t):
        q = self.tensors[t].quantization
        return q.scale[0], q.zeroPoint[0]

    def weights(self, rows, per_row_shape, int4, per_channel):
        n = int(np.prod(per_row_shape))
        lo, hi = (-8, 7) if int4 else (-127, 127)
        values = self.rng.integers(lo, hi + 1, size=(rows, n)).astype(np.int8)
        if self.rng.random() < 0.1:
            values[:] = hi  # every weight at the top of its range
        scales = [self.scale() / 64 for _ in range(rows if per_channel else 1)]
        if self.extreme and self.rng.random() < 0.2:
            scales[int(self.rng.integers(len(scales)))] = 1e30
        shape = [rows, *per_row_shape]
        if int4:
            flat = values.reshape(-1).astype(np.int16) & 0x0F
            flat = np.concatenate([flat, np.zeros(len(flat) % 2, np.int16)])
            data = (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8).tobytes()  # the even element low
            t = self.tensor(shape, S.TensorType.INT4, (scales, [0] * len(scales), 0), data)
        else:
            t = self.tensor(shape, S.TensorType.INT8, (scales, [0] * len(scales), 0), values.tobytes())
        return t, scales

    def bias(self, input_scale, weight_scales, rows):
        scales = [input_scale * s for s in (weight_scales if len(weight_scales) == rows else weight_scales * rows)]
        limit = int(self.rng.choice([100, 10000, 1 << 20]))
        values = self.rng.integers(-limit, limit + 1, size=rows).astype(np.int32)
        return self.tensor([rows], S.TensorType.INT32, (scales, [0] * rows), values.tobytes())

    # --- operators ------------------------------------------------------------------------------------
    def op(self, builtin, inputs, outputs, options_type=S.BuiltinOptions.NONE, options=None):
        if builtin not in self.codes:
            self.codes.append(builtin)
        o = S.OperatorT()
        o.opcodeIndex = self.codes.index(builtin)
        o.inputs, o.outputs = list(inputs), list(outputs)
        o.builtinOptionsType, o.builtinOptions = options_type, options
        self.operators.append(o)
        return outputs[0]

    def conv(self, x, channels=None, kernel=None, stride=None, same=None):
        _, h, w, c = self.shape(x)
        kernel = int(self.rng.integers(1, 6)) if kernel is None else kernel
        stride = int(self.rng.integers(1, 4)) if stride is None else stride
        same = bool(self.rng.random() < 0.6) if same is None else same
        if not same and (kernel > h or kernel > w):
            same = True
        oh, ow = ((h + stride - 1) // stride, (w + stride - 1) // stride) if same else (
            (h - kernel) // stride + 1, (w - kernel) // stride + 1)  # fmt: skip
        channels = int(self.rng.integers(1, 17)) if channels is None else channels
        int4 = bool(self.rng.random() < 0.3)
        per_channel = bool(self.rng.random() < 0.7)
        in_scale, _ = self.quant(x)
        filt, wscales = self.weights(channels, [kernel, kernel, c], int4, per_channel)
        bias = self.bias(in_scale, wscales, channels)
        out = self.activation([1, oh, ow, channels])
        options = S.Conv2DOptionsT()
        options.padding = S.Padding.SAME if same else S.Padding.VALID
        options.strideH = options.strideW = stride
        options.dilationHFactor = options.dilationWFactor = 1
        options.fusedActivationFunction = self.activation_function()
        return self.op(S.BuiltinOperator.CONV_2D, [x, filt, bias], [out], S.BuiltinOptions.Conv2DOptions, options)

    def add(self, a, b):
        out = self.activation(self.shape(a))
        options = S.AddOptionsT()
        options.fusedActivationFunction = self.activation_function()
        return self.op(S.BuiltinOperator.ADD, [a, b], [out], S.BuiltinOptions.AddOptions, options)

    def reshape(self, x, shape, with_shape_tensor=None):
        scale, zp = self.quant(x)
        out = self.activation(shape, scale, zp)
        inputs = [x]
        if with_shape_tensor if with_shape_tensor is not None else self.rng.random() < 0.5:
            inputs.append(self.tensor([len(shape)], S.TensorType.INT32, None, np.array(shape, np.int32).tobytes()))
        options = S.ReshapeOptionsT()
        options.newShape = list(shape)
        return self.op(S.BuiltinOperator.RESHAPE, inputs, [out], S.BuiltinOptions.ReshapeOptions, options)

    def pool(self, x, to_one=False):
        _, h, w, c = self.shape(x)
        fh, fw = (
            (h, w) if to_one else (int(self.rng.integers(1, min(h, 4) + 1)), int(self.rng.integers(1, min(w, 4) + 1)))
        )
        stride = 1 if to_one else int(self.rng.integers(1, 3))
        same = not to_one and bool(self.rng.random() < 0.5)
        oh, ow = ((h + stride - 1) // stride, (w + stride - 1) // stride) if same else (
            (h - fh) // stride + 1, (w - fw) // stride + 1)  # fmt: skip
        scale, zp = self.quant(x)
        out = self.activation([1, oh, ow, c], scale, zp)
        options = S.Pool2DOptionsT()
        options.padding = S.Padding.SAME if same else S.Padding.VALID
        options.strideH = options.strideW = stride
        options.filterHeight, options.filterWidth = fh, fw
        options.fusedActivationFunction = self.activation_function() if self.rng.random() < 0.3 else 0
        return self.op(S.BuiltinOperator.AVERAGE_POOL_2D, [x], [out], S.BuiltinOptions.Pool2DOptions, options)

    def mean(self, x):
        c = self.shape(x)[3]
        keep = bool(self.rng.random() < 0.3)
        out = self.activation([1, 1, 1, c] if keep else [1, c])
        axis = self.tensor([2], S.TensorType.INT32, None, np.array([1, 2], np.int32).tobytes())
        options = S.ReducerOptionsT()
        options.keepDims = keep
        self.op(S.BuiltinOperator.MEAN, [x, axis], [out], S.BuiltinOptions.ReducerOptions, options)
        return out if not keep else self.reshape(out, [1, c])

    def fully_connected(self, x, outputs):
        depth = int(np.prod(self.shape(x)))
        if len(self.shape(x)) != 2:
            x = self.reshape(x, [1, depth])
        per_channel = bool(self.rng.random() < 0.5)
        int4 = not per_channel and bool(self.rng.random() < 0.3)
        in_scale, _ = self.quant(x)
        w, wscales = self.weights(outputs, [depth], int4, per_channel)
        bias = self.bias(in_scale, wscales, outputs)
        out = self.activation([1, outputs])
        options = S.FullyConnectedOptionsT()
        options.fusedActivationFunction = self.activation_function() if self.rng.random() < 0.3 else 0
        return self.op(S.BuiltinOperator.FULLY_CONNECTED, [x, w, bias], [out],
                       S.BuiltinOptions.FullyConnectedOptions, options)  # fmt: skip

    def softmax(self, x):
        """SOFTMAX over [1, 10], or over several rows ([1, 2, 5], [1, 5, 2], [1, 10, 1]) and back."""
        rows = int(self.rng.choice([1, 1, 2, 5, 10]))
        y = x if rows == 1 else self.reshape(x, [1, rows, 10 // rows])
        out = self.tensor(self.shape(y), S.TensorType.INT8, ([1.0 / 256], [-128]))
        options = S.SoftmaxOptionsT()
        options.beta = 1.0
        self.op(S.BuiltinOperator.SOFTMAX, [y], [out], S.BuiltinOptions.SoftmaxOptions, options)
        return out if rows == 1 else self.reshape(out, [1, 10])

    # --- the body -------------------------------------------------------------------------------------
    def block(self, x, live):
        """One random stretch of the body, from x; `live` holds earlier tensors later ops may read."""
        kind = self.rng.choice(
            ["conv", "residual", "chain", "view_residual", "reshape_back"], p=[0.3, 0.25, 0.15, 0.2, 0.1]
        )
        if kind == "conv":
            return self.conv(x)
        if kind == "residual":  # conv(x) + x, or + a second conv of x
            c = self.shape(x)[3]
            y = self.conv(x, channels=c, stride=1, same=True)
            other = x if self.rng.random() < 0.5 else self.conv(x, channels=c, stride=1, same=True)
            return self.add(y, other) if self.rng.random() < 0.5 else self.add(other, y)
        if kind == "chain":  # conv -> ADD -> ADD
            c = self.shape(x)[3]
            y = self.add(self.conv(x, channels=c, stride=1, same=True), x)
            return self.add(y, x)
        if kind == "view_residual":  # conv(x) + a RESHAPE view of an earlier tensor of the same size, read again later
            _, h, w, c = self.shape(x)
            v = self.reshape(x, [1, h * w, c, 1])
            y = self.conv(x, channels=c, stride=1, same=True)
            s = self.add(self.reshape(y, [1, h * w, c, 1]), v) if self.rng.random() < 0.5 else None
            z = self.add(y, self.reshape(v, [1, h, w, c])) if s is None else self.reshape(s, [1, h, w, c])
            live.append(x)
            return z
        _, h, w, c = self.shape(x)  # reshape_back: a view and back
        return self.reshape(self.reshape(x, [1, w, h, c]), [1, h, w, c])

    def head(self, x):
        """To [1, 10]: MEAN or a pool, FULLY_CONNECTED, maybe SOFTMAX; or a 1x1 convolution to 10 channels whose
        [1, 1, 1, 10] output the graph's output is a RESHAPE view of, and that an ADD reads again later."""
        choice = self.rng.random()
        if choice < 0.12:
            pooled = self.pool(x, to_one=True)
            t = self.conv(pooled, channels=10, kernel=1, stride=1, same=True)
            out = self.reshape(t, [1, 10])
            self.add(self.conv(pooled, channels=10, kernel=1, stride=1, same=True), t)  # its result is never read
            return out
        if choice < 0.4:
            x = self.mean(x)
        elif choice < 0.7:
            _, h, w, c = self.shape(x)
            x = self.reshape(self.pool(x, to_one=True), [1, c])
        elif choice < 0.85:
            x = self.pool(x)
        out = self.fully_connected(x, 10)
        return self.softmax(out) if self.rng.random() < 0.6 else out

    def build(self):
        x = self.activation([1, 32, 32, 3])
        first = x
        if self.rng.random() < 0.5:
            x = self.conv(x, stride=int(self.rng.integers(1, 4)))  # shrink a little first
        live = []
        for _ in range(int(self.rng.integers(1, 4))):
            x = self.block(x, live)
            if self.shape(x)[1] > 16 and self.rng.random() < 0.5:
                x = self.conv(x, stride=2)
        for t in live:  # the tensors a view shared are read again
            if self.shape(t) == self.shape(x) and self.rng.random() < 0.7:
                x = self.add(x, t)
        out = self.head(x)
        if self.rng.random() < 0.1:  # the graph's output read again by an ADD whose result nobody uses
            other = self.fully_connected(self.mean(self.conv(first, channels=4)), 10)
            self.add(other, out)
        return self.finish(first, out)

    def finish(self, input_, output):
        model = S.ModelT()
        model.version = 3
        model.description = f"resnet8 differential test graph, seed {self.seed}".encode()
        model.operatorCodes = []
        for code in self.codes:
            c = S.OperatorCodeT()
            c.builtinCode, c.deprecatedBuiltinCode, c.version = code, min(code, 127), 1
            model.operatorCodes.append(c)
        g = S.SubGraphT()
        g.tensors, g.operators, g.inputs, g.outputs = self.tensors, self.operators, [input_], [output]
        model.subgraphs, model.buffers = [g], self.buffers
        import flatbuffers

        b = flatbuffers.Builder(0)
        b.Finish(model.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def main():
    out, first, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    for seed in range(first, first + count):
        (out / f"graph_{seed}.tflite").write_bytes(Graph(seed).build())


if __name__ == "__main__":
    main()
