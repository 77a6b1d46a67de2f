// The quantization plan as a TfliteModel (tflite_model.h): a walk over the plan's graph. No LibTorch.
#include <resnet8/formats/tflite_model.h>
#include <resnet8/support/error.h>

#include <fmt/format.h>

#include <cmath>
#include <cstring>

namespace resnet8 {
namespace {

class Builder {
 public:
  Builder(const QuantPlan& plan, const TfliteWriteOptions& options) : plan_(plan), options_(options) {}

  TfliteModel build(const std::string& description);

 private:
  int32_t add(TfliteTensor t) {
    model_.tensors.push_back(std::move(t));
    return static_cast<int32_t>(model_.tensors.size() - 1);
  }
  int32_t activation(const std::string& name, const std::string& point, std::vector<int32_t> shape);
  bool int4(const LayerPlan& l) const;
  int32_t weights(const LayerPlan& l);
  int32_t bias(const LayerPlan& l);
  int32_t int32_constant(const std::string& name, const std::vector<int32_t>& values);
  int32_t node(const Node& n, const std::vector<int32_t>& in, const ValueShape& shape);
  int32_t pool(const Node& n, int32_t in, const ValueShape& shape);
  void op(TfliteOperator o) { model_.operators.push_back(std::move(o)); }

  const QuantPlan& plan_;
  TfliteWriteOptions options_;
  TfliteModel model_;
};

int32_t Builder::activation(const std::string& name, const std::string& point, std::vector<int32_t> shape) {
  const QParams& q = plan_.activation(point).qparams;
  TfliteTensor t;
  t.name = name;
  t.type = TfliteType::kInt8;
  t.shape = std::move(shape);
  t.scales = {static_cast<float>(q.scale)};  // float32, as every int8 file stores it
  t.zero_points = {q.zero_point - 128};      // uint8 0..255 -> int8 -128..127: the same reals
  return add(std::move(t));
}

std::vector<int32_t> nhwc(const ValueShape& s) {
  if (s.height == 1 && s.width == 1) return {1, static_cast<int32_t>(s.channels)};
  return {1, static_cast<int32_t>(s.height), static_cast<int32_t>(s.width), static_cast<int32_t>(s.channels)};
}

// The layer's integers as TFLite lays them out: OHWI for a conv (the plan holds OIHW), [out, in] for fc; INT4
// two per byte, element of even index in the low nibble.
int32_t Builder::weights(const LayerPlan& l) {
  const auto& s = l.weight_shape;
  const bool conv = l.kind == LayerKind::kConv;
  std::vector<int32_t> q(l.weight.size());
  if (conv) {
    const int64_t out = s[0], in = s[1], kh = s[2], kw = s[3];
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i)
        for (int64_t y = 0; y < kh; ++y)
          for (int64_t x = 0; x < kw; ++x)
            q[((o * kh + y) * kw + x) * in + i] = l.weight[((o * in + i) * kh + y) * kw + x];
  } else {
    q = l.weight;
  }
  TfliteTensor t;
  t.name = l.name + ".weights";
  t.shape = conv ? std::vector<int32_t>{int32_t(s[0]), int32_t(s[2]), int32_t(s[3]), int32_t(s[1])}
                 : std::vector<int32_t>{int32_t(s[0]), int32_t(s[1])};
  t.scales = l.weight_scales;
  t.zero_points.assign(l.weight_scales.size(), 0);
  t.type = int4(l) ? TfliteType::kInt4 : TfliteType::kInt8;
  if (t.type == TfliteType::kInt4) {
    t.data.assign((q.size() + 1) / 2, 0);
    for (size_t i = 0; i < q.size(); ++i) t.data[i / 2] |= static_cast<uint8_t>((q[i] & 0x0F) << (i % 2 ? 4 : 0));
  } else {
    t.data.resize(q.size());
    for (size_t i = 0; i < q.size(); ++i) t.data[i] = static_cast<uint8_t>(static_cast<int8_t>(q[i]));
  }
  return add(std::move(t));
}

// Whether layer l's weights are written as INT4 (weights of at most 4 bits, in a convolution or a per-tensor
// FULLY_CONNECTED, as TFLM takes).
bool Builder::int4(const LayerPlan& l) const {
  return options_.int4 && l.weight_bits <= 4 && (l.kind == LayerKind::kConv || l.weight_scales.size() == 1);
}

// The bias in int32 steps of input scale x weight scale (the plan rounds it to them), with that scale and zero
// point 0 per channel, as TFLite's converter writes it. TFLM does not read a per-channel bias's scale, but
// LiteRT's XNNPACK delegate takes no layer whose int32 bias lacks one: it then runs the layer on LiteRT's builtin
// kernels, and ResNet8 3.5x slower. INT4 layers, which XNNPACK does not take as convolutions anyway, keep their
// per-channel bias without scales: 12 bytes a channel, 4.2 KB for ResNet8, which the 4-bit file cannot spare.
int32_t Builder::bias(const LayerPlan& l) {
  const double in_scale = plan_.activation(l.input).qparams.scale;
  TfliteTensor t;
  t.name = l.name + ".bias";
  t.type = TfliteType::kInt32;
  t.shape = {static_cast<int32_t>(l.bias.size())};
  std::vector<int32_t> q(l.bias.size());
  for (size_t c = 0; c < l.bias.size(); ++c) {
    const float w_scale = l.weight_scales[l.weight_scales.size() == 1 ? 0 : c];
    const float step = static_cast<float>(in_scale * w_scale);  // as round_bias() rounded it
    const double v = std::nearbyint(double(l.bias[c]) / double(step));
    if (!(std::abs(v) <= 2147483647.0)) throw Error(fmt::format("TFLite export: {}'s bias does not fit int32", l.name));
    q[c] = static_cast<int32_t>(v);
    if (l.weight_scales.size() == 1 || !int4(l)) {
      t.scales.push_back(step);
      t.zero_points.push_back(0);
    }
  }
  t.data.resize(q.size() * 4);
  std::memcpy(t.data.data(), q.data(), t.data.size());  // little endian, as TFLite buffers are
  return add(std::move(t));
}

int32_t Builder::int32_constant(const std::string& name, const std::vector<int32_t>& values) {
  TfliteTensor t;
  t.name = name;
  t.type = TfliteType::kInt32;
  t.shape = {static_cast<int32_t>(values.size())};
  t.data.resize(values.size() * 4);
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return add(std::move(t));
}

// The pool: MEAN over height and width at the pool's own point, or, where it keeps its input's point,
// AVERAGE_POOL_2D over the whole map and RESHAPE to [1, C] (as the MLPerf Tiny reference model does).
int32_t Builder::pool(const Node& n, int32_t in, const ValueShape& shape) {
  const std::vector<int32_t>& in_shape = model_.tensors[static_cast<size_t>(in)].shape;
  TfliteOperator o;
  if (n.point != plan_.graph.node(n.inputs[0]).point) {
    const int32_t out = activation(n.name, n.point, nhwc(shape));
    o.op = TfliteOp::kMean;
    o.inputs = {in, int32_constant(n.name + ".axis", {1, 2})};
    o.outputs = {out};
    op(o);
    return out;
  }
  const int32_t pooled = activation(n.name, n.point, {1, 1, 1, static_cast<int32_t>(shape.channels)});
  o.op = TfliteOp::kAveragePool2d;
  o.padding_same = false;
  o.filter_h = in_shape[1];
  o.filter_w = in_shape[2];
  o.stride_h = o.filter_h;
  o.stride_w = o.filter_w;
  o.inputs = {in};
  o.outputs = {pooled};
  op(o);
  const int32_t out = activation(n.name + ".flat", n.point, nhwc(shape));
  TfliteOperator r;
  r.op = TfliteOp::kReshape;
  r.inputs = {pooled, int32_constant(n.name + ".shape", nhwc(shape))};
  r.outputs = {out};
  op(r);
  return out;
}

int32_t Builder::node(const Node& n, const std::vector<int32_t>& in, const ValueShape& shape) {
  TfliteOperator o;
  o.inputs = in;
  switch (n.kind) {
    case NodeKind::kConv: {
      const LayerPlan& l = plan_.layer(n.name);
      o.op = TfliteOp::kConv2d;
      o.stride_h = o.stride_w = static_cast<int32_t>(l.stride);
      o.activation = l.relu ? TfliteActivation::kRelu : TfliteActivation::kNone;
      o.inputs = {in[0], weights(l), bias(l)};
      break;
    }
    case NodeKind::kAdd:
      o.op = TfliteOp::kAdd;
      o.activation = n.relu ? TfliteActivation::kRelu : TfliteActivation::kNone;
      break;
    case NodeKind::kPool: return pool(n, in[0], shape);
    case NodeKind::kLinear: {
      const LayerPlan& l = plan_.layer(n.name);
      o.op = TfliteOp::kFullyConnected;
      o.inputs = {in[0], weights(l), bias(l)};
      break;
    }
    case NodeKind::kSoftmax: {
      TfliteTensor t;
      t.name = n.name;
      t.shape = nhwc(shape);
      t.scales = {1.0f / 256};  // TFLite's int8 softmax output
      t.zero_points = {-128};
      o.op = TfliteOp::kSoftmax;
      o.outputs = {add(std::move(t))};
      op(o);
      return o.outputs[0];
    }
    case NodeKind::kInput: break;
  }
  o.outputs = {activation(n.name, n.point, nhwc(shape))};
  op(o);
  return o.outputs[0];
}

TfliteModel Builder::build(const std::string& description) {
  model_.description = description;
  const Graph& g = plan_.graph;
  const std::vector<ValueShape> shapes = g.shapes();
  std::vector<int32_t> tensor(g.nodes.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    std::vector<int32_t> in;
    for (const auto& name : n.inputs) in.push_back(tensor[g.index(name)]);
    tensor[i] = n.kind == NodeKind::kInput ? activation(n.name, n.point, nhwc(shapes[i])) : node(n, in, shapes[i]);
    if (n.kind == NodeKind::kInput) model_.input = tensor[i];
  }
  model_.output = tensor.back();
  return std::move(model_);
}

}  // namespace

TfliteModel tflite_model(const QuantPlan& plan, const std::string& description, const TfliteWriteOptions& options) {
  check_int8_plan(plan, 7);
  if (!plan.float_layers().empty()) {
    throw OptionError("float_layers", "a TFLite int8 model quantizes every layer; the plan keeps some in fp32");
  }
  return Builder(plan, options).build(description);
}

}  // namespace resnet8
