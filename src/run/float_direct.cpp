// The fp32 network on the direct float kernels (float_direct.h, run/float_conv.h).
#include <resnet8/model/folded.h>
#include <resnet8/program/split_worker.h>
#include <resnet8/run/float_direct.h>
#include <resnet8/support/error.h>

#include "run/float_conv.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace resnet8 {
namespace {

constexpr FloatLevel kLevels[] = {FloatLevel::kPortable, FloatLevel::kAvx2, FloatLevel::kAvx512};

direct::ConvRows rows_of(FloatLevel level) {
  switch (level) {
    case FloatLevel::kAvx2: return direct::conv_rows_avx2;
    case FloatLevel::kAvx512: return direct::conv_rows_avx512;
    case FloatLevel::kPortable: break;
  }
  return direct::conv_rows_portable;
}

// A node's step: its kind, where its inputs and output live, and for a convolution its packed layer.
struct Step {
  NodeKind kind = NodeKind::kInput;
  std::vector<int> inputs;  // node positions
  int slot = 0;             // arena slot of the output
  ValueShape in, out;       // the first input's shape and the output's
  bool relu = false;
  direct::FloatConv conv;
  std::vector<float> weights, bias;  // conv: packed (float_conv.h); linear: [out][in] and out
};

// conv's weights [out, in, k, k] packed in blocks of 16 output channels: [block][ky][kx][in][16].
void pack_conv(const at::Tensor& weight, const at::Tensor& bias, Step& s) {
  const at::Tensor w = weight.contiguous().to(at::kFloat), b = bias.contiguous().to(at::kFloat);
  const int64_t out = w.size(0), in = w.size(1), k = w.size(2), blocks = (out + 15) / 16;
  const auto wa = w.accessor<float, 4>();
  s.weights.assign(static_cast<size_t>(blocks * k * k * in * 16), 0.0f);
  s.bias.assign(static_cast<size_t>(blocks * 16), 0.0f);
  for (int64_t oc = 0; oc < out; ++oc) {
    s.bias[static_cast<size_t>(oc)] = b.data_ptr<float>()[oc];
    for (int64_t ky = 0; ky < k; ++ky) {
      for (int64_t kx = 0; kx < k; ++kx) {
        for (int64_t ic = 0; ic < in; ++ic) {
          const int64_t at = ((((oc / 16) * k + ky) * k + kx) * in + ic) * 16 + oc % 16;
          s.weights[static_cast<size_t>(at)] = wa[oc][ic][ky][kx];
        }
      }
    }
  }
}

void make_conv(const Graph& graph, const Node& n, const FoldedConv& folded, Step& s) {
  pack_conv(folded.original_weight(), folded.bias, s);
  const auto pad = graph.padding(n.name);
  direct::FloatConv& c = s.conv;
  c.in_height = static_cast<int32_t>(s.in.height), c.in_width = static_cast<int32_t>(s.in.width);
  c.in_channels = static_cast<int32_t>(s.in.channels);
  c.out_height = static_cast<int32_t>(s.out.height), c.out_width = static_cast<int32_t>(s.out.width);
  c.out_channels = static_cast<int32_t>(s.out.channels);
  c.kernel = static_cast<int32_t>(n.kernel), c.stride = static_cast<int32_t>(n.stride);
  c.pad_top = c.pad_left = static_cast<int32_t>(pad.first);
  c.padded_height = std::max((c.out_height - 1) * c.stride + c.kernel, c.pad_top + c.in_height);
  c.padded_width = std::max((c.out_width - 1) * c.stride + c.kernel, c.pad_left + c.in_width);
  c.relu = n.relu;
}

// Copies `in` (c.in_height x c.in_width x c.in_channels) into the zero-padded image.
void pad_input(const direct::FloatConv& c, const float* in, float* padded) {
  const std::ptrdiff_t ch = c.in_channels, row = c.padded_width * ch, left = c.pad_left * ch, width = c.in_width * ch;
  for (int32_t y = 0; y < c.padded_height; ++y, padded += row) {
    const std::ptrdiff_t iy = y - c.pad_top;
    if (iy < 0 || iy >= c.in_height) {
      std::fill(padded, padded + row, 0.0f);
      continue;
    }
    std::fill(padded, padded + left, 0.0f);
    std::memcpy(padded + left, in + iy * width, sizeof(float) * static_cast<size_t>(width));
    std::fill(padded + left + width, padded + row, 0.0f);
  }
}

// The worker's half of a convolution.
struct Rows {
  direct::ConvRows rows;
  const direct::FloatConv* conv;
  const float* padded;
  float* out;
  int32_t begin, end;
  static void run(const void* context) {
    const Rows& r = *static_cast<const Rows*>(context);
    r.rows(*r.conv, r.padded, r.out, r.begin, r.end);
  }
};

}  // namespace

struct DirectFloatNet::Impl {
  FloatLevel level = FloatLevel::kPortable;
  std::vector<Step> steps;
  // The arena: `slots` values of slot_floats each, then the padded image, then the small results of the pool and
  // the linear layer, made there before they go over their input's slot.
  int64_t slots = 0, slot_floats = 0, padded_floats = 0, small_floats = 0, input_floats = 0, output_floats = 0;

  void conv(const Step& s, const float* in, float* out, float* padded, SplitWorker* worker) const;
  void pool(const Step& s, const float* in, float* out, float* small) const;
  void linear(const Step& s, const float* in, float* out, float* small) const;
};

const char* float_level_name(FloatLevel level) {
  switch (level) {
    case FloatLevel::kAvx2: return "avx2";
    case FloatLevel::kAvx512: return "avx512";
    case FloatLevel::kPortable: break;
  }
  return "portable";
}

bool float_level_supported(FloatLevel level) {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  switch (level) {
    case FloatLevel::kAvx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case FloatLevel::kAvx512: return __builtin_cpu_supports("avx512f") != 0;
    case FloatLevel::kPortable: break;
  }
  return true;
#else
  return level == FloatLevel::kPortable;
#endif
}

FloatLevel best_float_level() {
  if (float_level_supported(FloatLevel::kAvx512)) return FloatLevel::kAvx512;
  if (float_level_supported(FloatLevel::kAvx2)) return FloatLevel::kAvx2;
  return FloatLevel::kPortable;
}

FloatLevel parse_float_level(const std::string& value, const std::string& option) {
  if (value == "auto") return best_float_level();
  std::string runs;
  for (FloatLevel l : kLevels) {
    if (float_level_supported(l)) runs += std::string(runs.empty() ? "" : ", ") + float_level_name(l);
  }
  for (FloatLevel l : kLevels) {
    if (value != float_level_name(l)) continue;
    if (!float_level_supported(l)) {
      throw OptionError(option, fmt::format("{}: this CPU cannot run them; it runs {}", value, runs));
    }
    return l;
  }
  throw OptionError(option, fmt::format("{}: unknown float kernels; expected auto, portable, avx2 or avx512 "
                                        "(this CPU runs {})",
                                        value, runs));
}

DirectFloatNet::DirectFloatNet(const FoldedResNet8& net, FloatLevel level) : impl_(std::make_unique<Impl>()) {
  if (!float_level_supported(level)) {
    throw Error(fmt::format("the {} float kernels: this CPU cannot run them", float_level_name(level)));
  }
  Impl& m = *impl_;
  m.level = level;
  const Graph& g = net.graph;
  const std::vector<ValueShape> shapes = g.shapes();
  const std::vector<int> slots = g.value_slots();
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    Step s;
    s.kind = n.kind, s.relu = n.relu, s.slot = slots[i], s.out = shapes[i];
    for (const auto& in : n.inputs) s.inputs.push_back(static_cast<int>(g.index(in)));
    s.in = s.inputs.empty() ? shapes[i] : shapes[static_cast<size_t>(s.inputs[0])];
    if (n.kind == NodeKind::kConv) {
      make_conv(g, n, net.conv(n.name), s);
      m.padded_floats =
          std::max<int64_t>(m.padded_floats, int64_t{s.conv.padded_height} * s.conv.padded_width * s.conv.in_channels);
    } else if (n.kind == NodeKind::kLinear) {
      const at::Tensor w = net.fc_weight.contiguous().to(at::kFloat), b = net.fc_bias.contiguous().to(at::kFloat);
      s.weights.assign(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
      s.bias.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
    }
    if (n.kind == NodeKind::kPool || n.kind == NodeKind::kLinear) {
      m.small_floats = std::max(m.small_floats, s.out.elements());
    }
    if (n.kind == NodeKind::kInput) m.input_floats = s.out.elements();
    m.slots = std::max<int64_t>(m.slots, s.slot + 1);
    m.slot_floats = std::max(m.slot_floats, s.out.elements());
    m.output_floats = s.out.elements();
    m.steps.push_back(std::move(s));
    Step& t = m.steps.back();  // its vectors' storage stays put when the steps move
    t.conv.weights = t.weights.data(), t.conv.bias = t.bias.data();
  }
  if (m.steps.empty() || m.steps.front().kind != NodeKind::kInput || m.steps.back().kind != NodeKind::kSoftmax) {
    throw Error("the direct float kernels run a network from its input to a softmax");
  }
}

DirectFloatNet::~DirectFloatNet() = default;
DirectFloatNet::DirectFloatNet(DirectFloatNet&&) noexcept = default;
DirectFloatNet& DirectFloatNet::operator=(DirectFloatNet&&) noexcept = default;

FloatLevel DirectFloatNet::level() const { return impl_->level; }
int64_t DirectFloatNet::input_floats() const { return impl_->input_floats; }
int64_t DirectFloatNet::output_floats() const { return impl_->output_floats; }

void DirectFloatNet::Impl::conv(const Step& s, const float* in, float* out, float* padded, SplitWorker* worker) const {
  const direct::ConvRows rows = rows_of(level);
  pad_input(s.conv, in, padded);
  if (!worker || s.conv.out_height < 2) {
    rows(s.conv, padded, out, 0, s.conv.out_height);
    return;
  }
  const int32_t half = s.conv.out_height / 2;
  const Rows second{rows, &s.conv, padded, out, half, s.conv.out_height};
  worker->start(&Rows::run, &second);
  rows(s.conv, padded, out, 0, half);
  worker->finish();
}

void DirectFloatNet::Impl::pool(const Step& s, const float* in, float* out, float* small) const {
  const int64_t c = s.in.channels, pixels = s.in.height * s.in.width;
  std::fill(small, small + c, 0.0f);
  for (int64_t p = 0; p < pixels; ++p) {
    for (int64_t k = 0; k < c; ++k) small[k] += in[p * c + k];
  }
  for (int64_t k = 0; k < c; ++k) out[k] = small[k] / static_cast<float>(pixels);
}

void DirectFloatNet::Impl::linear(const Step& s, const float* in, float* out, float* small) const {
  const int64_t k = s.in.elements(), n = s.out.elements();
  for (int64_t o = 0; o < n; ++o) {
    float sum = s.bias[static_cast<size_t>(o)];
    for (int64_t i = 0; i < k; ++i) sum += s.weights[static_cast<size_t>(o * k + i)] * in[i];
    small[o] = sum;
  }
  std::copy(small, small + n, out);
}

namespace {

void softmax(const float* in, int64_t n, float* out) {
  const float top = *std::max_element(in, in + n);
  float total = 0;
  for (int64_t i = 0; i < n; ++i) total += (out[i] = std::exp(in[i] - top));
  for (int64_t i = 0; i < n; ++i) out[i] /= total;
}

void add(const float* a, const float* b, int64_t n, bool relu, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = a[i] + b[i];
    out[i] = relu && v < 0 ? 0.0f : v;
  }
}

}  // namespace

void DirectFloatNet::run(const float* image, float* probabilities, std::vector<float>& arena,
                         SplitWorker* worker) const {
  const Impl& m = *impl_;
  const size_t need = static_cast<size_t>(m.slots * m.slot_floats + m.padded_floats + m.small_floats);
  if (arena.size() < need) arena.resize(need);
  float* const padded = arena.data() + m.slots * m.slot_floats;
  float* const small = padded + m.padded_floats;
  // A node's value: the image for the input, else its slot (which holds it until its last reader has run).
  auto value = [&](int node) -> const float* {
    return node == 0 ? image : arena.data() + m.steps[static_cast<size_t>(node)].slot * m.slot_floats;
  };
  for (size_t i = 1; i < m.steps.size(); ++i) {
    const Step& s = m.steps[i];
    float* out = arena.data() + s.slot * m.slot_floats;
    const float* in = value(s.inputs.at(0));
    switch (s.kind) {
      case NodeKind::kInput: break;
      case NodeKind::kConv: m.conv(s, in, out, padded, worker); break;
      case NodeKind::kAdd: add(in, value(s.inputs[1]), s.out.elements(), s.relu, out); break;
      case NodeKind::kPool: m.pool(s, in, out, small); break;
      case NodeKind::kLinear: m.linear(s, in, out, small); break;
      case NodeKind::kSoftmax: softmax(in, s.out.elements(), probabilities); break;
    }
  }
}

}  // namespace resnet8
