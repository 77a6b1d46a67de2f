// TfliteModel -> PreparedModel: TFLM's Prepare for each operator (prepare.h), through the operator table.
#include <resnet8/program/operators.h>
#include <resnet8/program/prepare.h>

#include "program/prepare_context.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace resnet8 {

void quantize_multiplier(double multiplier, int32_t* significand, int* shift) {
  if (multiplier == 0.) {
    *significand = 0;
    *shift = 0;
    return;
  }
  const double q = std::frexp(multiplier, shift);
  auto q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++*shift;
  }
  if (*shift < -31) {  // flushed to zero, as TFLM does
    *shift = 0;
    q_fixed = 0;
  }
  *significand = static_cast<int32_t>(q_fixed);
}

Error PrepareContext::bad(size_t index, const std::string& why) const {
  return Error(fmt::format("{}: operator {} ({}): {}", what_, index, tflite_op_name(op(index).op), why));
}

const TfliteTensor& PrepareContext::activation(size_t index, int32_t t, size_t rank) const {
  const TfliteTensor& x = tensor(t);
  if (x.is_constant() || x.type != TfliteType::kInt8 || (rank && x.shape.size() != rank) || x.shape.empty() ||
      x.shape[0] != 1) {
    throw bad(index, fmt::format("tensor '{}' is {} [{}]; expected an int8 activation{} with batch 1", x.name,
                                 x.is_constant() ? "a constant" : "an activation", fmt::join(x.shape, ", "),
                                 rank ? fmt::format(" of rank {}", rank) : ""));
  }
  if (x.scales.size() != 1 || x.zero_points.size() != 1 || !(x.scales[0] > 0) || !std::isfinite(x.scales[0]) ||
      x.zero_points[0] < -128 || x.zero_points[0] > 127) {
    throw bad(index, fmt::format("tensor '{}' is not quantized per tensor with a positive scale and an int8 zero point",
                                 x.name));
  }
  return x;
}

const TfliteTensor& PrepareContext::constant(size_t index, int32_t t, TfliteType type, const char* what) const {
  if (t < 0) throw bad(index, fmt::format("has no {}", what));
  const TfliteTensor& x = tensor(t);
  const bool weight_types = type == TfliteType::kInt8 && x.type == TfliteType::kInt4;
  if (!x.is_constant() || (x.type != type && !weight_types)) {
    throw bad(index, fmt::format("its {} '{}' is not a constant of the expected type", what, x.name));
  }
  return x;
}

namespace {

// Weight `i` of a constant tensor as TFLite stores it: int8, or INT4 two a byte, the even element low.
int8_t stored_weight(const TfliteTensor& t, int64_t i) {
  if (t.type != TfliteType::kInt4) return static_cast<int8_t>(t.data[static_cast<size_t>(i)]);
  const uint8_t byte = t.data[static_cast<size_t>(i / 2)];
  const int32_t nibble = i % 2 ? byte >> 4 : byte & 0x0F;
  return static_cast<int8_t>(nibble >= 8 ? nibble - 16 : nibble);
}

}  // namespace

PreparedWeights PrepareContext::weights(const TfliteTensor& t, int32_t rows) const {
  PreparedWeights w;
  w.rows = rows;
  w.per_row = static_cast<int32_t>(t.elements() / rows);
  w.int4 = t.type == TfliteType::kInt4;
  w.values.resize(static_cast<size_t>(t.elements()));
  for (int64_t i = 0; i < t.elements(); ++i) w.values[static_cast<size_t>(i)] = stored_weight(t, i);
  return w;
}

std::vector<int32_t> PrepareContext::ints(const TfliteTensor& t) {
  std::vector<int32_t> v(static_cast<size_t>(t.elements()));
  std::memcpy(v.data(), t.data.data(), v.size() * sizeof(int32_t));
  return v;
}

// TFLM adds int32 products and the bias in int32: a file whose sums could leave int32 (no real model's do)
// would make that undefined in C, so it is refused.
int64_t PrepareContext::accumulator_bound(const std::vector<int32_t>& bias, const PreparedWeights& w,
                                          int32_t input_offset, int32_t row) {
  int64_t abs_sum = 0;
  for (int32_t i = 0; i < w.per_row; ++i) abs_sum += std::abs(w.at(row, i));
  // |x + input_offset| <= 128 + |input_offset| for an int8 input x.
  return std::abs(int64_t{bias[static_cast<size_t>(row)]}) + abs_sum * (128 + std::abs(input_offset));
}

void PrepareContext::check_accumulator(size_t index, const std::vector<int32_t>& bias, const PreparedWeights& w,
                                       int32_t input_offset) const {
  for (int32_t r = 0; r < w.rows; ++r) {
    if (accumulator_bound(bias, w, input_offset, r) > std::numeric_limits<int32_t>::max()) {
      throw bad(index, fmt::format("channel {}'s bias and weights could overflow an int32 accumulator", r));
    }
  }
}

// Per output channel, TFLM's effective scale input x filter / output as a fixed-point multiplier:
// PopulateConvolutionQuantizationParams (per channel, also for a per-tensor filter broadcast) for CONV_2D
// and per-channel FULLY_CONNECTED; GetQuantizedConvolutionMultipler (a float32 product) for a per-tensor
// FULLY_CONNECTED, which TFLM also requires to agree with the bias scale.
void PrepareContext::requant(size_t index, const TfliteTensor& in, const TfliteTensor& filter, const TfliteTensor& out,
                             int32_t channels, std::vector<int32_t>* multiplier, std::vector<int32_t>* shift) const {
  const size_t n = filter.scales.size();
  if ((n != 1 && n != static_cast<size_t>(channels)) || filter.zero_points.size() != n ||
      filter.quantized_dimension != 0) {
    throw bad(index, fmt::format("filter '{}' has {} scales for {} channels (or not on dimension 0)", filter.name, n,
                                 channels));
  }
  multiplier->assign(static_cast<size_t>(channels), 0);
  shift->assign(static_cast<size_t>(channels), 0);
  const bool per_tensor_fc = op(index).op == TfliteOp::kFullyConnected && n == 1;
  for (size_t c = 0; c < multiplier->size(); ++c) {
    const float fs = filter.scales[n == 1 ? 0 : c];
    if (!(fs > 0) || filter.zero_points[n == 1 ? 0 : c] != 0) {
      throw bad(index, fmt::format("filter '{}' is not symmetric with positive scales", filter.name));
    }
    const double effective = per_tensor_fc ? static_cast<double>(in.scales[0] * fs) / static_cast<double>(out.scales[0])
                                           : static_cast<double>(in.scales[0]) * static_cast<double>(fs) /
                                                 static_cast<double>(out.scales[0]);
    int sh = 0;
    quantize_multiplier(effective, &(*multiplier)[c], &sh);
    check_shift(index, sh, fmt::format("channel {}'s requantization scale {:g}", c, effective));
    (*shift)[c] = sh;
  }
}

// TFLM's CalculateActivationRangeQuantized for int8, with its Quantize(): a bound that is not an int32 number of
// output steps is refused, as TFLM refuses it (the conversion would be undefined).
void PrepareContext::activation_range(size_t index, TfliteActivation a, const TfliteTensor& out, int32_t* lo,
                                      int32_t* hi) const {
  const float scale = out.scales[0];
  const auto zp = static_cast<int32_t>(out.zero_points[0]);
  auto quantize = [&](float x) {
    const float steps = std::round(x / scale);
    if (!(steps < 2147483648.0f)) {
      throw bad(index, fmt::format("its fused activation's bound {} is {:g} steps of the output scale {:g}, beyond "
                                   "int32 (TFLM refuses it)",
                                   x, steps, scale));
    }
    return zp + static_cast<int32_t>(steps);
  };
  *lo = -128;
  *hi = 127;
  if (a == TfliteActivation::kRelu || a == TfliteActivation::kRelu6) *lo = std::max(-128, quantize(0.0f));
  if (a == TfliteActivation::kRelu6) *hi = std::min(127, quantize(6.0f));
  if (*lo > *hi) throw bad(index, "its fused activation's range is empty at the output's scale");
}

void PrepareContext::check_shift(size_t index, int shift, const std::string& what) const {
  if (shift > kMaxLeftShift) {
    throw bad(index, fmt::format("{} needs a left shift of {}; TFLM's fixed-point arithmetic is defined up to {} "
                                 "(x * 2^shift must not leave int32's shift range)",
                                 what, shift, kMaxLeftShift));
  }
}

std::pair<int32_t, int32_t> out_and_pad(bool same, int32_t in, int32_t filter, int32_t stride) {
  const int32_t out = same ? (in + stride - 1) / stride : (in - filter + stride) / stride;
  const int32_t total = std::max((out - 1) * stride + filter - in, 0);
  return {out, same ? total / 2 : 0};
}

namespace {

constexpr int64_t kMaxActivationBytes = 16000000;

// The model's interface and its activations' bytes.
void prepare_tensors(const PrepareContext& context, PreparedModel& p, const std::string& what) {
  const TfliteTensor& in = context.activation(0, p.model.input, 4);
  const TfliteTensor& out = context.activation(p.model.operators.size() - 1, p.model.output, 2);
  if (in.shape != std::vector<int32_t>{1, 32, 32, 3} || out.shape != std::vector<int32_t>{1, 10}) {
    throw Error(fmt::format("{}: input [{}] and output [{}]; a CIFAR-10 ResNet8 takes [1, 32, 32, 3] and gives [1, 10]",
                            what, fmt::join(in.shape, ", "), fmt::join(out.shape, ", ")));
  }
  p.bytes.assign(p.model.tensors.size(), 0);
  int64_t total = 0;
  for (size_t i = 0; i < p.model.tensors.size(); ++i) {
    if (!p.model.tensors[i].is_constant()) total += p.bytes[i] = p.model.tensors[i].elements();
  }
  if (total > kMaxActivationBytes) {
    throw Error(fmt::format("{}: its activations take {} bytes; a ResNet8's take ~100 kB (limit {} MB)", what, total,
                            kMaxActivationBytes / 1000000));
  }
  p.input = p.model.input;
  p.output = p.model.output;
  p.input_scale = in.scales[0];
  p.input_zero_point = static_cast<int32_t>(in.zero_points[0]);
  p.output_scale = out.scales[0];
  p.output_zero_point = static_cast<int32_t>(out.zero_points[0]);
}

}  // namespace

PreparedModel prepare_model(TfliteModel model, const std::string& what) {
  PreparedModel p;
  p.model = std::move(model);
  const PrepareContext context(p.model, what);
  prepare_tensors(context, p, what);
  for (size_t i = 0; i < p.model.operators.size(); ++i) {
    PreparedOp o;
    o.op = p.model.operators[i].op;
    operator_info(o.op).prepare(context, i, o);
    p.ops.push_back(std::move(o));
  }
  return p;
}

int64_t PreparedOp::multiply_accumulates() const {
  if (op == TfliteOp::kConv2d) {
    return int64_t{conv.output.height} * conv.output.width * conv.filter.rows * conv.filter.per_row;
  }
  if (op == TfliteOp::kFullyConnected) return int64_t{fully_connected.weights.rows} * fully_connected.weights.per_row;
  return 0;
}

int64_t PreparedModel::multiply_accumulates() const {
  int64_t macs = 0;
  for (const PreparedOp& o : ops) macs += o.multiply_accumulates();
  return macs;
}

}  // namespace resnet8
