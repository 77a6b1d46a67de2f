// No LibTorch header may be included here (see onnx.h): this file is built in its own target.
#include <resnet8/formats/onnx.h>

#include <resnet8/support/error.h>

#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace resnet8 {
namespace {

// A graph under construction: initializers and nodes with unique output names.
class OnnxGraph {
 public:
  explicit OnnxGraph(onnx::GraphProto* g) : g_(g) {}

  template <typename T>
  std::string constant(const std::string& name, int dtype, const std::vector<int64_t>& dims,
                       const std::vector<T>& values) {
    if (!constants_.insert(name).second) return name;
    auto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(dtype);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
    return name;
  }

  // A node named after `hint` (made unique); its one output has the node's name unless `output` is given.
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& inputs, const std::string& hint,
                        const std::string& output = "") {
    auto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(fmt::format("{}_{}", hint, ++count_));
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(output.empty() ? n->name() : output);
    return n;
  }
  static const std::string& out(const onnx::NodeProto* n) { return n->output(0); }

 private:
  onnx::GraphProto* g_;
  std::set<std::string> constants_;
  int count_ = 0;
};

void set_ints(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& values) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}

void set_int(onnx::NodeProto* n, const std::string& name, int64_t value) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

// A quantized activation: the QuantizeLinear output (uint8), its DequantizeLinear (float) and its point.
struct Activation {
  std::string q, dq;
  const ActivationPlan* point = nullptr;
};

std::string activation_scale(OnnxGraph& g, const ActivationPlan& a) {
  return g.constant<float>(a.point + ".scale", onnx::TensorProto::FLOAT, {}, {static_cast<float>(a.qparams.scale)});
}

std::string activation_zero_point(OnnxGraph& g, const ActivationPlan& a) {
  return g.constant<uint8_t>(a.point + ".zero_point", onnx::TensorProto::UINT8, {},
                             {static_cast<uint8_t>(a.qparams.zero_point)});
}

// QuantizeLinear + DequantizeLinear at an activation point's parameters (uint8).
Activation qdq(OnnxGraph& g, const std::string& in, const ActivationPlan& a) {
  const std::string s = activation_scale(g, a), z = activation_zero_point(g, a);
  const std::string q = OnnxGraph::out(g.node("QuantizeLinear", {in, s, z}, a.point + ".q"));
  return {q, OnnxGraph::out(g.node("DequantizeLinear", {q, s, z}, a.point + ".dq")), &a};
}

// The float input of a layer kept in fp32: the same dequantization, written per channel (axis 1, every
// channel the same scale and zero point). ONNX Runtime's WeightBiasQuantization rewrites a Conv/Gemm
// with float weights whose input comes from a per-tensor DequantizeLinear into an int8 one (8-bit
// per-tensor weights, which also saturate int16 pairs on CPUs without VNNI); a per-channel input
// leaves the layer in fp32, as the plan says.
std::string float_input(OnnxGraph& g, const Activation& in, int64_t channels, const std::string& layer) {
  const ActivationPlan& a = *in.point;
  const std::string s = g.constant<float>(layer + ".input_scale", onnx::TensorProto::FLOAT, {channels},
                                          std::vector<float>(channels, static_cast<float>(a.qparams.scale)));
  const std::string z = g.constant<uint8_t>(layer + ".input_zero_point", onnx::TensorProto::UINT8, {channels},
                                            std::vector<uint8_t>(channels, static_cast<uint8_t>(a.qparams.zero_point)));
  auto* n = g.node("DequantizeLinear", {in.q, s, z}, layer + ".input");
  set_int(n, "axis", 1);
  return OnnxGraph::out(n);
}

// The layer's float weight tensor: DequantizeLinear of its int8 values, or the fp32 weights it kept.
std::string weight(OnnxGraph& g, const LayerPlan& l, bool per_channel) {
  if (l.kept_float)
    return g.constant<float>(l.name + ".weight", onnx::TensorProto::FLOAT, l.weight_shape, l.float_weight);
  std::vector<int8_t> q(l.weight.begin(), l.weight.end());
  const std::vector<int64_t> axis_dims = per_channel ? std::vector<int64_t>{l.weight_shape[0]} : std::vector<int64_t>{};
  const std::string w = g.constant<int8_t>(l.name + ".weight_quantized", onnx::TensorProto::INT8, l.weight_shape, q);
  const std::string s =
      g.constant<float>(l.name + ".weight_scale", onnx::TensorProto::FLOAT, axis_dims, l.weight_scales);
  const std::string z = g.constant<int8_t>(l.name + ".weight_zero_point", onnx::TensorProto::INT8, axis_dims,
                                           std::vector<int8_t>(l.weight_scales.size(), 0));
  auto* n = g.node("DequantizeLinear", {w, s, z}, l.name + ".weight");
  if (per_channel) set_int(n, "axis", 0);
  return OnnxGraph::out(n);
}

// The layer's bias: int32 at scale input_scale x weight_scale (as int8 kernels hold it), or fp32.
std::string bias(OnnxGraph& g, const LayerPlan& l, bool per_channel, double input_scale) {
  const int64_t out = static_cast<int64_t>(l.bias.size());
  if (l.kept_float) return g.constant<float>(l.name + ".bias", onnx::TensorProto::FLOAT, {out}, l.bias);
  std::vector<float> scales(l.bias.size());
  std::vector<int32_t> q(l.bias.size());
  for (size_t c = 0; c < l.bias.size(); ++c) {
    scales[c] = static_cast<float>(input_scale * l.weight_scales[per_channel ? c : 0]);
    const double v = std::nearbyint(double(l.bias[c]) / double(scales[c]));
    q[c] = static_cast<int32_t>(
        std::clamp<double>(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
  }
  const std::string b = g.constant<int32_t>(l.name + ".bias_quantized", onnx::TensorProto::INT32, {out}, q);
  const std::string s = g.constant<float>(l.name + ".bias_scale", onnx::TensorProto::FLOAT, {out}, scales);
  auto* n = g.node("DequantizeLinear", {b, s}, l.name + ".bias");
  set_int(n, "axis", 0);
  return OnnxGraph::out(n);
}

// Conv (+ Relu) + Q/DQ at the layer's output parameters; `in` is its input point's activation.
Activation conv(OnnxGraph& g, const QuantPlan& plan, const Node& n, const Activation& in) {
  const LayerPlan& l = plan.layer(n.name);
  const std::string w = weight(g, l, plan.per_channel);
  const std::string b = bias(g, l, plan.per_channel, in.point->qparams.scale);
  const std::string x = l.kept_float ? float_input(g, in, l.weight_shape[1], n.name) : in.dq;
  auto* c = g.node("Conv", {x, w, b}, n.name);
  set_ints(c, "kernel_shape", {l.weight_shape[2], l.weight_shape[3]});
  set_ints(c, "strides", {l.stride, l.stride});
  set_ints(c, "pads", {l.pad_before, l.pad_before, l.pad_after, l.pad_after});
  const std::string y =
      l.relu ? OnnxGraph::out(g.node("Relu", {OnnxGraph::out(c)}, n.name + ".relu")) : OnnxGraph::out(c);
  return qdq(g, y, plan.activation(n.point));
}

// A linear layer: Gemm, then Q/DQ at its output parameters (int8) or not (fp32: float logits).
Activation linear(OnnxGraph& g, const QuantPlan& plan, const Node& n, const Activation& in) {
  const LayerPlan& l = plan.layer(n.name);
  const std::string w = weight(g, l, plan.per_channel);
  const std::string b = bias(g, l, plan.per_channel, in.point->qparams.scale);
  const std::string x = l.kept_float ? float_input(g, in, l.weight_shape[1], n.name) : in.dq;
  auto* gemm = g.node("Gemm", {x, w, b}, n.name);
  set_int(gemm, "transB", 1);
  if (l.kept_float) return {"", OnnxGraph::out(gemm), nullptr};
  return qdq(g, OnnxGraph::out(gemm), plan.activation(n.point));
}

// The global average pool: re-quantized at its point's parameters (its input's when the plan keeps them,
// as LibTorch's quantized pool does), flattened to [N, C].
Activation pool(OnnxGraph& g, const QuantPlan& plan, const Node& n, const Activation& in) {
  const ActivationPlan& a = plan.activation(n.point);
  const std::string s = activation_scale(g, a), z = activation_zero_point(g, a);
  const auto* avg = g.node("GlobalAveragePool", {in.dq}, n.name);
  auto* flat = g.node("Flatten", {OnnxGraph::out(g.node("QuantizeLinear", {OnnxGraph::out(avg), s, z}, n.name + ".q"))},
                      "flatten");
  set_int(flat, "axis", 1);
  return {OnnxGraph::out(flat), OnnxGraph::out(g.node("DequantizeLinear", {OnnxGraph::out(flat), s, z}, "features")),
          &a};
}

// The plan's graph, node by node; returns the name of the output (the softmax probabilities).
std::string network(OnnxGraph& g, const QuantPlan& plan, const std::string& x) {
  const Graph& net = plan.graph;
  std::vector<Activation> values(net.nodes.size());
  for (size_t i = 0; i < net.nodes.size(); ++i) {
    const Node& n = net.nodes[i];
    std::vector<Activation> in;
    for (const auto& name : n.inputs) in.push_back(values[net.index(name)]);
    switch (n.kind) {
      case NodeKind::kInput: {
        auto* t = g.node("Transpose", {x}, "nchw");
        set_ints(t, "perm", {0, 3, 1, 2});
        values[i] = qdq(g, OnnxGraph::out(t), plan.activation(n.point));
        break;
      }
      case NodeKind::kConv: values[i] = conv(g, plan, n, in[0]); break;
      case NodeKind::kAdd: {
        std::string y = OnnxGraph::out(g.node("Add", {in[0].dq, in[1].dq}, n.name));
        if (n.relu) y = OnnxGraph::out(g.node("Relu", {y}, n.name + ".relu"));
        values[i] = qdq(g, y, plan.activation(n.point));
        break;
      }
      case NodeKind::kPool: values[i] = pool(g, plan, n, in[0]); break;
      case NodeKind::kLinear: values[i] = linear(g, plan, n, in[0]); break;
      case NodeKind::kSoftmax: {
        auto* softmax = g.node("Softmax", {in[0].dq}, "probs", "probs");
        set_int(softmax, "axis", 1);
        return OnnxGraph::out(softmax);
      }
    }
  }
  throw Error("ONNX export: the plan's graph does not end in a softmax");
}

void set_tensor_type(onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& dims) {
  v->set_name(name);
  auto* tensor = v->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tensor->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

}  // namespace

std::string onnx_model(const QuantPlan& plan, const std::string& producer_version) {
  check_int8_plan(plan, 7);
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("resnet8-ptq");
  model.set_producer_version(producer_version);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("resnet8_int8_qdq");
  set_tensor_type(graph->add_input(), "x", {32, 32, 3});
  OnnxGraph g(graph);
  set_tensor_type(graph->add_output(), network(g, plan, "x"), {10});
  try {
    onnx::checker::check_model(model);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), onnx::ShapeInferenceOptions(true, 1));
  } catch (const std::exception& e) {
    throw Error(fmt::format("ONNX export: the ONNX checker rejected the model: {}", e.what()));
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw Error("ONNX export: the model could not be serialized");
  return bytes;
}

}  // namespace resnet8
