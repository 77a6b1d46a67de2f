// No LibTorch header may be included here (see onnx_export.h): this file is built in its own target.
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
class Graph {
 public:
  explicit Graph(onnx::GraphProto* g) : g_(g) {}

  template <typename T>
  std::string constant(const std::string& name, int dtype, const std::vector<int64_t>& dims, const std::vector<T>& values) {
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

std::string activation_scale(Graph& g, const ActivationPlan& a) {
  return g.constant<float>(a.point + ".scale", onnx::TensorProto::FLOAT, {}, {static_cast<float>(a.qparams.scale)});
}

std::string activation_zero_point(Graph& g, const ActivationPlan& a) {
  return g.constant<uint8_t>(a.point + ".zero_point", onnx::TensorProto::UINT8, {}, {static_cast<uint8_t>(a.qparams.zero_point)});
}

// QuantizeLinear + DequantizeLinear at an activation point's parameters (uint8).
Activation qdq(Graph& g, const std::string& in, const ActivationPlan& a) {
  const std::string s = activation_scale(g, a), z = activation_zero_point(g, a);
  const std::string q = Graph::out(g.node("QuantizeLinear", {in, s, z}, a.point + ".q"));
  return {q, Graph::out(g.node("DequantizeLinear", {q, s, z}, a.point + ".dq")), &a};
}

// The float input of a layer kept in fp32: the same dequantization, written per channel (axis 1, every
// channel the same scale and zero point). ONNX Runtime's WeightBiasQuantization rewrites a Conv/Gemm
// with float weights whose input comes from a per-tensor DequantizeLinear into an int8 one (8-bit
// per-tensor weights, which also saturate int16 pairs on CPUs without VNNI); a per-channel input
// leaves the layer in fp32, as the plan says.
std::string float_input(Graph& g, const Activation& in, int64_t channels, const std::string& layer) {
  const ActivationPlan& a = *in.point;
  const std::string s = g.constant<float>(layer + ".input_scale", onnx::TensorProto::FLOAT, {channels},
                                          std::vector<float>(channels, static_cast<float>(a.qparams.scale)));
  const std::string z = g.constant<uint8_t>(layer + ".input_zero_point", onnx::TensorProto::UINT8, {channels},
                                            std::vector<uint8_t>(channels, static_cast<uint8_t>(a.qparams.zero_point)));
  auto* n = g.node("DequantizeLinear", {in.q, s, z}, layer + ".input");
  set_int(n, "axis", 1);
  return Graph::out(n);
}

// The layer's float weight tensor: DequantizeLinear of its int8 values, or the fp32 weights it kept.
std::string weight(Graph& g, const LayerPlan& l, bool per_channel) {
  if (l.kept_float) return g.constant<float>(l.name + ".weight", onnx::TensorProto::FLOAT, l.weight_shape, l.float_weight);
  std::vector<int8_t> q(l.weight.begin(), l.weight.end());
  const std::vector<int64_t> axis_dims = per_channel ? std::vector<int64_t>{l.weight_shape[0]} : std::vector<int64_t>{};
  const std::string w = g.constant<int8_t>(l.name + ".weight_quantized", onnx::TensorProto::INT8, l.weight_shape, q);
  const std::string s = g.constant<float>(l.name + ".weight_scale", onnx::TensorProto::FLOAT, axis_dims, l.weight_scales);
  const std::string z = g.constant<int8_t>(l.name + ".weight_zero_point", onnx::TensorProto::INT8, axis_dims,
                                           std::vector<int8_t>(l.weight_scales.size(), 0));
  auto* n = g.node("DequantizeLinear", {w, s, z}, l.name + ".weight");
  if (per_channel) set_int(n, "axis", 0);
  return Graph::out(n);
}

// The layer's bias: int32 at scale input_scale x weight_scale (as int8 kernels hold it), or fp32.
std::string bias(Graph& g, const LayerPlan& l, bool per_channel, double input_scale) {
  const int64_t out = static_cast<int64_t>(l.bias.size());
  if (l.kept_float) return g.constant<float>(l.name + ".bias", onnx::TensorProto::FLOAT, {out}, l.bias);
  std::vector<float> scales(l.bias.size());
  std::vector<int32_t> q(l.bias.size());
  for (size_t c = 0; c < l.bias.size(); ++c) {
    scales[c] = static_cast<float>(input_scale * l.weight_scales[per_channel ? c : 0]);
    const double v = std::nearbyint(double(l.bias[c]) / double(scales[c]));
    q[c] = static_cast<int32_t>(std::clamp<double>(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
  }
  const std::string b = g.constant<int32_t>(l.name + ".bias_quantized", onnx::TensorProto::INT32, {out}, q);
  const std::string s = g.constant<float>(l.name + ".bias_scale", onnx::TensorProto::FLOAT, {out}, scales);
  auto* n = g.node("DequantizeLinear", {b, s}, l.name + ".bias");
  set_int(n, "axis", 0);
  return Graph::out(n);
}

// Conv (+ Relu) + Q/DQ at the layer's output parameters; `in` is its input point's activation.
Activation conv(Graph& g, const QuantPlan& plan, const std::string& name, const Activation& in) {
  const LayerPlan& l = plan.layer(name);
  const std::string w = weight(g, l, plan.per_channel);
  const std::string b = bias(g, l, plan.per_channel, in.point->qparams.scale);
  const std::string x = l.kept_float ? float_input(g, in, l.weight_shape[1], name) : in.dq;
  auto* c = g.node("Conv", {x, w, b}, name);
  set_ints(c, "kernel_shape", {l.weight_shape[2], l.weight_shape[3]});
  set_ints(c, "strides", {l.stride, l.stride});
  set_ints(c, "pads", {l.pad_before, l.pad_before, l.pad_after, l.pad_after});
  const std::string y = l.relu ? Graph::out(g.node("Relu", {Graph::out(c)}, name + ".relu")) : Graph::out(c);
  return qdq(g, y, plan.activation(name));
}

// The classifier: Gemm on the pooled features, then Q/DQ (int8) or not (fp32), then Softmax.
std::string classifier(Graph& g, const QuantPlan& plan, const Activation& features) {
  const LayerPlan& fc = plan.layer("fc");
  const std::string w = weight(g, fc, plan.per_channel);
  const std::string b = bias(g, fc, plan.per_channel, features.point->qparams.scale);
  const std::string x = fc.kept_float ? float_input(g, features, fc.weight_shape[1], "fc") : features.dq;
  auto* gemm = g.node("Gemm", {x, w, b}, "fc");
  set_int(gemm, "transB", 1);
  const std::string logits = fc.kept_float ? Graph::out(gemm) : qdq(g, Graph::out(gemm), plan.activation("fc")).dq;
  auto* softmax = g.node("Softmax", {logits}, "probs", "probs");
  set_int(softmax, "axis", 1);
  return Graph::out(softmax);
}

// The ResNet8 graph: stem, stacks (conv1, conv2, optional shortcut, add), pool, classifier.
std::string network(Graph& g, const QuantPlan& plan, const std::string& x) {
  auto* t = g.node("Transpose", {x}, "nchw");
  set_ints(t, "perm", {0, 3, 1, 2});
  Activation h = conv(g, plan, "stem.conv", qdq(g, Graph::out(t), plan.activation("input")));
  for (const auto& stack : plan.stacks()) {
    const Activation y = conv(g, plan, stack + ".conv2", conv(g, plan, stack + ".conv1", h));
    if (plan.has_layer(stack + ".shortcut")) h = conv(g, plan, stack + ".shortcut", h);
    const auto* add = g.node("Add", {y.dq, h.dq}, stack + ".add");
    h = qdq(g, Graph::out(g.node("Relu", {Graph::out(add)}, stack + ".add.relu")), plan.activation(stack + ".add"));
  }
  // The pool keeps its input's quantization parameters, as LibTorch's quantized pool does.
  const std::string s = activation_scale(g, *h.point), z = activation_zero_point(g, *h.point);
  const auto* pool = g.node("GlobalAveragePool", {h.dq}, "pool");
  auto* flat = g.node("Flatten", {Graph::out(g.node("QuantizeLinear", {Graph::out(pool), s, z}, "pool.q"))}, "flatten");
  set_int(flat, "axis", 1);
  const Activation features{Graph::out(flat), Graph::out(g.node("DequantizeLinear", {Graph::out(flat), s, z}, "features")), h.point};
  return classifier(g, plan, features);
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
  check_int8_plan(plan);
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
  Graph g(graph);
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
