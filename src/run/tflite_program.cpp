// TfliteModel -> IntegerProgram: TFLM's Prepare for each operator (tflite_program.h).
#include <resnet8/run/arena_plan.h>
#include <resnet8/run/tflite_program.h>
#include <resnet8/support/error.h>

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

namespace {

constexpr int64_t kMaxActivationBytes = int64_t{16} << 20;

struct RowSums {
  std::vector<int64_t> sum, abs_sum;  // per output channel: its weights' sum and the sum of their magnitudes
};

class Preparer {
 public:
  Preparer(IntegerProgram& p, std::string what) : p_(p), what_(std::move(what)) {}
  void prepare();

 private:
  Error bad(size_t op, const std::string& why) const {
    return Error(fmt::format("{}: operator {} ({}): {}", what_, op, tflite_op_name(p_.model.operators[op].op), why));
  }
  const TfliteTensor& tensor(int32_t t) const { return p_.model.tensors[static_cast<size_t>(t)]; }
  // The activation tensor `t`: int8, per-tensor quantized, of rank `rank` (0: any).
  const TfliteTensor& activation(size_t op, int32_t t, size_t rank) const;
  const TfliteTensor& constant(size_t op, int32_t t, TfliteType type, const char* what) const;
  const int8_t* weights(const TfliteTensor& t, int32_t channels, bool* int4, RowSums* sums);
  void check_accumulator(size_t op, const std::vector<int32_t>& bias, const RowSums& sums, int64_t input_offset) const;
  const int32_t* ints(std::vector<int32_t> v) { return p_.ints.emplace_back(std::move(v)).data(); }
  void requant(size_t op, const TfliteTensor& in, const TfliteTensor& filter, const TfliteTensor& out, int32_t channels,
               const int32_t** multiplier, const int32_t** shift);
  void activation_range(size_t op, TfliteActivation a, const TfliteTensor& out, int32_t* lo, int32_t* hi) const;
  void conv(size_t op, ProgramOp& o);
  void add(size_t op, ProgramOp& o);
  void pool(size_t op, ProgramOp& o);
  void mean(size_t op, ProgramOp& o);
  void reshape(size_t op, ProgramOp& o);
  void fully_connected(size_t op, ProgramOp& o);
  void softmax(size_t op, ProgramOp& o);

  IntegerProgram& p_;
  std::string what_;
};

const TfliteTensor& Preparer::activation(size_t op, int32_t t, size_t rank) const {
  const TfliteTensor& x = tensor(t);
  if (x.is_constant() || x.type != TfliteType::kInt8 || (rank && x.shape.size() != rank) || x.shape.empty() ||
      x.shape[0] != 1) {
    throw bad(op, fmt::format("tensor '{}' is {} [{}]; expected an int8 activation of rank {} and batch 1", x.name,
                              x.is_constant() ? "a constant" : "an activation", fmt::join(x.shape, ", "), rank));
  }
  if (x.scales.size() != 1 || x.zero_points.size() != 1 || !(x.scales[0] > 0) || !std::isfinite(x.scales[0]) ||
      x.zero_points[0] < -128 || x.zero_points[0] > 127) {
    throw bad(op, fmt::format("tensor '{}' is not quantized per tensor with a positive scale and an int8 zero point",
                              x.name));
  }
  return x;
}

const TfliteTensor& Preparer::constant(size_t op, int32_t t, TfliteType type, const char* what) const {
  if (t < 0) throw bad(op, fmt::format("has no {}", what));
  const TfliteTensor& x = tensor(t);
  const bool weight_types = type == TfliteType::kInt8 && x.type == TfliteType::kInt4;
  if (!x.is_constant() || (x.type != type && !weight_types)) {
    throw bad(op, fmt::format("its {} '{}' is not a constant of the expected type", what, x.name));
  }
  return x;
}

// Weight `i` of a constant tensor as TFLite stores it: int8, or INT4 two a byte, the even element low.
int32_t stored_weight(const TfliteTensor& t, int64_t i) {
  if (t.type != TfliteType::kInt4) return static_cast<int8_t>(t.data[static_cast<size_t>(i)]);
  const uint8_t byte = t.data[static_cast<size_t>(i / 2)];
  const int32_t nibble = i % 2 ? byte >> 4 : byte & 0x0F;
  return nibble >= 8 ? nibble - 16 : nibble;
}

// The weights in the kernels' layout (r8_weight in r8_kernels.h: each of `channels` rows at a multiple of
// 8 weights; int4 a group of 8 in 4 bytes, weight k low and k + 4 high in byte k), and each row's sum.
const int8_t* Preparer::weights(const TfliteTensor& t, int32_t channels, bool* int4, RowSums* sums) {
  *int4 = t.type == TfliteType::kInt4;
  const int64_t per_channel = t.elements() / channels, stride = r8_filter_stride(static_cast<int32_t>(per_channel));
  std::vector<int8_t> out(static_cast<size_t>(*int4 ? channels * stride / 2 : channels * stride), 0);
  sums->sum.assign(static_cast<size_t>(channels), 0);
  sums->abs_sum.assign(static_cast<size_t>(channels), 0);
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t i = 0; i < per_channel; ++i) {
      const int32_t w = stored_weight(t, c * per_channel + i);
      sums->sum[static_cast<size_t>(c)] += w;
      sums->abs_sum[static_cast<size_t>(c)] += std::abs(w);
      const int64_t at = c * stride + i;
      if (!*int4) {
        out[static_cast<size_t>(at)] = static_cast<int8_t>(w);
        continue;
      }
      auto& byte = out[static_cast<size_t>(at / 8 * 4 + at % 4)];
      const auto nibble = static_cast<uint8_t>(w & 0x0F);
      byte = static_cast<int8_t>(static_cast<uint8_t>(byte) | (at % 8 >= 4 ? nibble << 4 : nibble));
    }
  }
  return p_.weights.emplace_back(std::move(out)).data();
}

// TFLM adds int32 products and the bias in int32: a file whose sums could leave int32 (no real model's do)
// would make that undefined in C, so it is refused.
void Preparer::check_accumulator(size_t op, const std::vector<int32_t>& bias, const RowSums& sums,
                                 int64_t input_offset) const {
  for (size_t i = 0; i < bias.size(); ++i) {
    const int64_t bound = std::abs(int64_t{bias[i]}) + sums.abs_sum[i] * (128 + std::abs(input_offset));
    if (bound > std::numeric_limits<int32_t>::max()) {
      throw bad(op, fmt::format("channel {}'s bias and weights could overflow an int32 accumulator", i));
    }
  }
}

// Per output channel, TFLM's effective scale input x filter / output as a fixed-point multiplier:
// PopulateConvolutionQuantizationParams (per channel, also for a per-tensor filter broadcast) for CONV_2D
// and per-channel FULLY_CONNECTED; GetQuantizedConvolutionMultipler (a float32 product) for a per-tensor
// FULLY_CONNECTED, which TFLM also requires to agree with the bias scale.
void Preparer::requant(size_t op, const TfliteTensor& in, const TfliteTensor& filter, const TfliteTensor& out,
                       int32_t channels, const int32_t** multiplier, const int32_t** shift) {
  const size_t n = filter.scales.size();
  if ((n != 1 && n != static_cast<size_t>(channels)) || filter.zero_points.size() != n ||
      filter.quantized_dimension != 0) {
    throw bad(
        op, fmt::format("filter '{}' has {} scales for {} channels (or not on dimension 0)", filter.name, n, channels));
  }
  std::vector<int32_t> m(static_cast<size_t>(channels)), s(static_cast<size_t>(channels));
  const bool per_tensor_fc = p_.model.operators[op].op == TfliteOp::kFullyConnected && n == 1;
  for (size_t c = 0; c < m.size(); ++c) {
    const float fs = filter.scales[n == 1 ? 0 : c];
    if (!(fs > 0) || filter.zero_points[n == 1 ? 0 : c] != 0) {
      throw bad(op, fmt::format("filter '{}' is not symmetric with positive scales", filter.name));
    }
    const double effective = per_tensor_fc ? static_cast<double>(in.scales[0] * fs) / static_cast<double>(out.scales[0])
                                           : static_cast<double>(in.scales[0]) * static_cast<double>(fs) /
                                                 static_cast<double>(out.scales[0]);
    int sh = 0;
    quantize_multiplier(effective, &m[c], &sh);
    s[c] = sh;
  }
  *multiplier = ints(std::move(m));
  *shift = ints(std::move(s));
}

// TFLM's CalculateActivationRangeQuantized for int8.
void Preparer::activation_range(size_t op, TfliteActivation a, const TfliteTensor& out, int32_t* lo,
                                int32_t* hi) const {
  const float scale = out.scales[0];
  const auto zp = static_cast<int32_t>(out.zero_points[0]);
  auto quantize = [&](float x) { return zp + static_cast<int32_t>(std::round(x / scale)); };
  *lo = -128;
  *hi = 127;
  if (a == TfliteActivation::kRelu || a == TfliteActivation::kRelu6) *lo = std::max(-128, quantize(0.0f));
  if (a == TfliteActivation::kRelu6) *hi = std::min(127, quantize(6.0f));
  if (*lo > *hi) throw bad(op, "its fused activation's range is empty at the output's scale");
}

// TFLM's ComputePaddingHeightWidth for one dimension: the output size and the padding before.
std::pair<int32_t, int32_t> out_and_pad(bool same, int32_t in, int32_t filter, int32_t stride) {
  const int32_t out = same ? (in + stride - 1) / stride : (in - filter + stride) / stride;
  const int32_t total = std::max((out - 1) * stride + filter - in, 0);
  return {out, same ? total / 2 : 0};
}

r8_shape hwc(const TfliteTensor& t) { return {t.shape[1], t.shape[2], t.shape[3]}; }

void Preparer::conv(size_t op, ProgramOp& o) {
  const TfliteOperator& x = p_.model.operators[op];
  if (x.inputs.size() != 3) throw bad(op, "expected input, filter and bias");
  const TfliteTensor& in = activation(op, x.inputs[0], 4);
  const TfliteTensor& filter = constant(op, x.inputs[1], TfliteType::kInt8, "filter");
  const TfliteTensor& bias = constant(op, x.inputs[2], TfliteType::kInt32, "bias");
  const TfliteTensor& out = activation(op, x.outputs[0], 4);
  if (filter.shape.size() != 4 || filter.shape[3] != in.shape[3] || filter.shape[0] != out.shape[3] ||
      bias.elements() != out.shape[3]) {
    throw bad(op, fmt::format("filter [{}] and bias [{}] do not fit input [{}] and output [{}]",
                              fmt::join(filter.shape, ", "), fmt::join(bias.shape, ", "), fmt::join(in.shape, ", "),
                              fmt::join(out.shape, ", ")));
  }
  r8_conv_params& c = o.conv;
  c.input = hwc(in);
  c.output = hwc(out);
  c.kernel_h = filter.shape[1];
  c.kernel_w = filter.shape[2];
  c.stride_h = x.stride_h;
  c.stride_w = x.stride_w;
  const auto [oh, pad_top] = out_and_pad(x.padding_same, c.input.height, c.kernel_h, c.stride_h);
  const auto [ow, pad_left] = out_and_pad(x.padding_same, c.input.width, c.kernel_w, c.stride_w);
  if (oh != c.output.height || ow != c.output.width)
    throw bad(op,
              fmt::format("output is {}x{}, padding and strides give {}x{}", c.output.height, c.output.width, oh, ow));
  c.pad_top = pad_top;
  c.pad_left = pad_left;
  c.input_offset = -static_cast<int32_t>(in.zero_points[0]);
  c.output_offset = static_cast<int32_t>(out.zero_points[0]);
  activation_range(op, x.activation, out, &c.act_min, &c.act_max);
  bool int4 = false;
  RowSums sums;
  c.weights = weights(filter, c.output.channels, &int4, &sums);
  c.weights_int4 = int4;
  std::vector<int32_t> b(static_cast<size_t>(bias.elements()));
  std::memcpy(b.data(), bias.data.data(), bias.data.size());
  check_accumulator(op, b, sums, c.input_offset);
  for (size_t i = 0; i < b.size(); ++i) {  // TFLM's sum of w x (x + offset): its offset part, once, here
    b[i] = static_cast<int32_t>(b[i] + c.input_offset * sums.sum[i]);
  }
  c.bias = ints(std::move(b));
  requant(op, in, filter, out, c.output.channels, &c.multiplier, &c.shift);
  o.input = x.inputs[0];
  o.output = x.outputs[0];
}

void Preparer::add(size_t op, ProgramOp& o) {
  const TfliteOperator& x = p_.model.operators[op];
  if (x.inputs.size() != 2) throw bad(op, "expected two inputs");
  const TfliteTensor& a = activation(op, x.inputs[0], 0);
  const TfliteTensor& b = activation(op, x.inputs[1], 0);
  const TfliteTensor& out = activation(op, x.outputs[0], 0);
  if (a.shape != b.shape || a.shape != out.shape)
    throw bad(op, "inputs and output differ in shape (broadcast is not implemented)");
  r8_add_params& d = o.add;
  d.size = static_cast<int32_t>(out.elements());
  d.input1_offset = -static_cast<int32_t>(a.zero_points[0]);
  d.input2_offset = -static_cast<int32_t>(b.zero_points[0]);
  d.output_offset = static_cast<int32_t>(out.zero_points[0]);
  d.left_shift = 20;
  const double twice_max = 2 * static_cast<double>(std::max(a.scales[0], b.scales[0]));
  const double m1 = static_cast<double>(a.scales[0]) / twice_max, m2 = static_cast<double>(b.scales[0]) / twice_max;
  const double mo = twice_max / ((1 << d.left_shift) * static_cast<double>(out.scales[0]));
  auto smaller_than_one = [&](double m, int32_t* q, int32_t* shift) {  // QuantizeMultiplierSmallerThanOneExp
    if (!(m > 0 && m < 1)) throw bad(op, fmt::format("a rescaling multiplier of {} (TFLM requires one in (0, 1))", m));
    int s = 0;
    quantize_multiplier(m, q, &s);
    if (s > 0) throw bad(op, "a rescaling multiplier rounds to 1");
    *shift = s;
  };
  smaller_than_one(m1, &d.input1_multiplier, &d.input1_shift);
  smaller_than_one(m2, &d.input2_multiplier, &d.input2_shift);
  smaller_than_one(mo, &d.output_multiplier, &d.output_shift);
  activation_range(op, x.activation, out, &d.act_min, &d.act_max);
  o.input = x.inputs[0];
  o.input2 = x.inputs[1];
  o.output = x.outputs[0];
}

void Preparer::pool(size_t op, ProgramOp& o) {
  const TfliteOperator& x = p_.model.operators[op];
  if (x.inputs.size() != 1) throw bad(op, "expected one input");
  const TfliteTensor& in = activation(op, x.inputs[0], 4);
  const TfliteTensor& out = activation(op, x.outputs[0], 4);
  if (in.scales[0] != out.scales[0] || in.zero_points[0] != out.zero_points[0] || in.shape[3] != out.shape[3]) {
    throw bad(op, "input and output differ in scale, zero point or channels (the int8 kernel keeps them)");
  }
  r8_avgpool_params& a = o.avgpool;
  a.input = hwc(in);
  a.output = hwc(out);
  a.filter_h = x.filter_h;
  a.filter_w = x.filter_w;
  a.stride_h = x.stride_h;
  a.stride_w = x.stride_w;
  const auto [oh, pad_top] = out_and_pad(x.padding_same, a.input.height, a.filter_h, a.stride_h);
  const auto [ow, pad_left] = out_and_pad(x.padding_same, a.input.width, a.filter_w, a.stride_w);
  if (oh != a.output.height || ow != a.output.width || oh < 1 || ow < 1)
    throw bad(op, "output shape does not follow from the window");
  a.pad_top = pad_top;
  a.pad_left = pad_left;
  activation_range(op, x.activation, out, &a.act_min, &a.act_max);
  o.input = x.inputs[0];
  o.output = x.outputs[0];
}

// MEAN over height and width: TFLM's multiplier in/out, then QuantizedMeanOrSum's readjustment by the count.
void Preparer::mean(size_t op, ProgramOp& o) {
  const TfliteOperator& x = p_.model.operators[op];
  if (x.inputs.size() != 2) throw bad(op, "expected input and axis");
  const TfliteTensor& in = activation(op, x.inputs[0], 4);
  const TfliteTensor& axis = constant(op, x.inputs[1], TfliteType::kInt32, "axis");
  const TfliteTensor& out = activation(op, x.outputs[0], 0);
  std::vector<int32_t> axes(static_cast<size_t>(axis.elements()));
  std::memcpy(axes.data(), axis.data.data(), axis.data.size());
  std::sort(axes.begin(), axes.end());
  if (axes != std::vector<int32_t>{1, 2} || out.elements() != in.shape[3])
    throw bad(op, "only a mean over height and width is implemented");
  r8_mean_params& m = o.mean;
  m.input = hwc(in);
  m.input_zero_point = static_cast<int32_t>(in.zero_points[0]);
  m.output_zero_point = static_cast<int32_t>(out.zero_points[0]);
  int shift = 0;
  quantize_multiplier(static_cast<double>(in.scales[0]) / static_cast<double>(out.scales[0]), &m.multiplier, &shift);
  const int64_t count = int64_t{m.input.height} * m.input.width;
  int extra = 63 - static_cast<int>(__builtin_clzll(static_cast<uint64_t>(count)));
  extra = std::min(extra, 32);
  extra = std::min(extra, 31 + shift);
  m.multiplier = static_cast<int32_t>((static_cast<int64_t>(m.multiplier) << extra) / count);
  m.shift = shift - extra;
  o.input = x.inputs[0];
  o.output = x.outputs[0];
}

void Preparer::reshape(size_t op, ProgramOp& o) {
  const TfliteOperator& x = p_.model.operators[op];
  const TfliteTensor& in = activation(op, x.inputs.at(0), 0);
  const TfliteTensor& out = activation(op, x.outputs[0], 0);
  if (in.elements() != out.elements()) throw bad(op, "changes the number of elements");
  o.input = x.inputs[0];
  o.output = x.outputs[0];
}

void Preparer::fully_connected(size_t op, ProgramOp& o) {
  const TfliteOperator& x = p_.model.operators[op];
  if (x.inputs.size() != 3) throw bad(op, "expected input, weights and bias");
  const TfliteTensor& in = activation(op, x.inputs[0], 0);
  const TfliteTensor& w = constant(op, x.inputs[1], TfliteType::kInt8, "weights");
  const TfliteTensor& bias = constant(op, x.inputs[2], TfliteType::kInt32, "bias");
  const TfliteTensor& out = activation(op, x.outputs[0], 2);
  if (w.shape.size() != 2 || w.shape[1] != in.elements() || w.shape[0] != out.shape[1] ||
      bias.elements() != w.shape[0]) {
    throw bad(op, "weights, bias and output do not fit the input");
  }
  const bool per_channel = w.scales.size() > 1;
  if (per_channel && w.type == TfliteType::kInt4) throw bad(op, "INT4 weights per channel (TFLM has no such kernel)");
  if (!per_channel) {  // GetQuantizedConvolutionMultipler's check of the bias scale
    const double product = static_cast<double>(in.scales[0]) * static_cast<double>(w.scales.at(0));
    const double bias_scale = bias.scales.empty() ? 0.0 : static_cast<double>(bias.scales[0]);
    if (std::abs(product - bias_scale) / static_cast<double>(out.scales[0]) > 0.02)
      throw bad(op, "the bias scale differs from input x weight scale (TFLM refuses it)");
  }
  r8_fully_connected_params& f = o.fully_connected;
  f.input_depth = static_cast<int32_t>(in.elements());
  f.output_depth = w.shape[0];
  f.input_offset = -static_cast<int32_t>(in.zero_points[0]);
  f.output_offset = static_cast<int32_t>(out.zero_points[0]);
  activation_range(op, x.activation, out, &f.act_min, &f.act_max);
  bool int4 = false;
  RowSums sums;
  f.weights = weights(w, f.output_depth, &int4, &sums);
  f.weights_int4 = int4;
  std::vector<int32_t> b(static_cast<size_t>(bias.elements()));
  std::memcpy(b.data(), bias.data.data(), bias.data.size());
  check_accumulator(op, b, sums, f.input_offset);
  f.bias = ints(std::move(b));
  f.per_channel = per_channel;
  requant(op, in, w, out, per_channel ? f.output_depth : 1, &f.multiplier, &f.shift);
  o.input = x.inputs[0];
  o.output = x.outputs[0];
}

// TFLM's CalculateSoftmaxParams for int8 -> int8: PreprocessSoftmaxScaling and CalculateInputRadius.
void Preparer::softmax(size_t op, ProgramOp& o) {
  const TfliteOperator& x = p_.model.operators[op];
  const TfliteTensor& in = activation(op, x.inputs.at(0), 0);
  const TfliteTensor& out = activation(op, x.outputs[0], 0);
  if (in.shape != out.shape || out.zero_points[0] != -128 || out.scales[0] != 1.0f / 256) {
    throw bad(op, "the int8 softmax needs an output of the input's shape at scale 1/256, zero point -128");
  }
  const int integer_bits = 5;
  const double real = std::min(
      static_cast<double>(x.beta) * static_cast<double>(in.scales[0]) * static_cast<double>(1 << (31 - integer_bits)),
      static_cast<double>((int64_t{1} << 31) - 1));
  if (!(real > 1)) throw bad(op, "its input scale is too small for TFLM's softmax (multiplier <= 1)");
  int shift = 0;
  quantize_multiplier(real, &o.softmax.input_multiplier, &shift);
  o.softmax.input_left_shift = shift;
  o.softmax.diff_min = -static_cast<int32_t>(
      std::floor(1.0 * ((1 << integer_bits) - 1) * static_cast<double>(int64_t{1} << (31 - integer_bits)) /
                 static_cast<double>(int64_t{1} << shift)));
  o.softmax.depth = in.shape.back();
  o.input = x.inputs[0];
  o.output = x.outputs[0];
}

void Preparer::prepare() {
  const TfliteTensor& in = activation(0, p_.model.input, 4);
  const TfliteTensor& out = activation(p_.model.operators.size() - 1, p_.model.output, 2);
  if (in.shape != std::vector<int32_t>{1, 32, 32, 3} || out.shape != std::vector<int32_t>{1, 10}) {
    throw Error(fmt::format("{}: input [{}] and output [{}]; a CIFAR-10 ResNet8 takes [1, 32, 32, 3] and gives [1, 10]",
                            what_, fmt::join(in.shape, ", "), fmt::join(out.shape, ", ")));
  }
  p_.bytes.assign(p_.model.tensors.size(), 0);
  int64_t total = 0;
  for (size_t i = 0; i < p_.model.tensors.size(); ++i) {
    if (!p_.model.tensors[i].is_constant()) total += p_.bytes[i] = p_.model.tensors[i].elements();
  }
  if (total > kMaxActivationBytes) {
    throw Error(fmt::format("{}: its activations take {} bytes; a ResNet8's take ~100 KB (limit {} MiB)", what_, total,
                            kMaxActivationBytes >> 20));
  }
  for (size_t i = 0; i < p_.model.operators.size(); ++i) {
    ProgramOp o;
    o.op = p_.model.operators[i].op;
    switch (o.op) {
      case TfliteOp::kConv2d: conv(i, o); break;
      case TfliteOp::kAdd: add(i, o); break;
      case TfliteOp::kAveragePool2d: pool(i, o); break;
      case TfliteOp::kMean: mean(i, o); break;
      case TfliteOp::kReshape: reshape(i, o); break;
      case TfliteOp::kFullyConnected: fully_connected(i, o); break;
      case TfliteOp::kSoftmax: softmax(i, o); break;
    }
    p_.ops.push_back(o);
  }
  p_.input = p_.model.input;
  p_.output = p_.model.output;
  p_.input_scale = in.scales[0];
  p_.input_zero_point = static_cast<int32_t>(in.zero_points[0]);
  p_.output_scale = out.scales[0];
  p_.output_zero_point = static_cast<int32_t>(out.zero_points[0]);
}

}  // namespace

IntegerProgram prepare_program(TfliteModel model, const std::string& what, const PrepareOptions& options) {
  IntegerProgram p;
  p.model = std::move(model);
  Preparer(p, what).prepare();
  p.model_ops = p.ops;
  plan_arena(p, options.fuse_adds, what);
  return p;
}

int64_t IntegerProgram::multiply_accumulates() const {
  int64_t macs = 0;
  for (const ProgramOp& o : ops) {
    if (o.op == TfliteOp::kConv2d) {
      const r8_conv_params& c = o.conv;
      macs +=
          int64_t{c.output.height} * c.output.width * c.output.channels * c.kernel_h * c.kernel_w * c.input.channels;
    } else if (o.op == TfliteOp::kFullyConnected) {
      macs += int64_t{o.fully_connected.input_depth} * o.fully_connected.output_depth;
    }
  }
  return macs;
}

void run_program(const IntegerProgram& p, const int8_t* input, int8_t* output, std::vector<int8_t>& arena) {
  if (static_cast<int64_t>(arena.size()) < p.arena_bytes) arena.resize(static_cast<size_t>(p.arena_bytes));
  int8_t* a = arena.data();
  std::memcpy(a + p.input_at, input, static_cast<size_t>(p.bytes[static_cast<size_t>(p.input)]));
  for (const ProgramOp& o : p.ops) {
    switch (o.op) {
      case TfliteOp::kConv2d: r8_conv(&o.conv, a + o.input_at, a + o.output_at, a + o.scratch_at); break;
      case TfliteOp::kAdd: r8_add(&o.add, a + o.input_at, a + o.input2_at, a + o.output_at); break;
      case TfliteOp::kAveragePool2d: r8_avgpool(&o.avgpool, a + o.input_at, a + o.output_at); break;
      case TfliteOp::kMean: r8_mean(&o.mean, a + o.input_at, a + o.output_at); break;
      case TfliteOp::kReshape: break;  // planned away: its output is its input's bytes
      case TfliteOp::kFullyConnected: r8_fully_connected(&o.fully_connected, a + o.input_at, a + o.output_at); break;
      case TfliteOp::kSoftmax: r8_softmax(&o.softmax, a + o.input_at, a + o.output_at); break;
    }
  }
  std::memcpy(output, a + p.output_at, static_cast<size_t>(p.bytes[static_cast<size_t>(p.output)]));
}

}  // namespace resnet8
