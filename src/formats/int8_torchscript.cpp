#include <resnet8/formats/int8_torchscript.h>

#include "engine/script_resolver.h"
#include "formats/int8_state.h"

#include <resnet8/engine/engine.h>
#include <resnet8/engine/saturation.h>
#include <resnet8/formats/bit_pack.h>
#include <resnet8/support/error.h>

#include <ATen/core/dispatch/Dispatcher.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/script.h>

namespace resnet8 {
namespace {

using detail::attr_name;

c10::IValue call_op(const char* name, torch::jit::Stack stack) {
  const auto op = c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
  op.callBoxed(&stack);
  return stack.at(0);
}

// The flat state (see int8_torchscript.h), and the __setstate__ statements that unpack it.
struct Blobs {
  std::vector<int32_t> weights;  // bit-packed into the file (bit_pack.h)
  std::vector<float> reals;
  std::vector<int64_t> ints;
  std::string setstate;

  template <typename T>
  static std::pair<int64_t, int64_t> append(std::vector<T>& to, const std::vector<T>& values) {
    const int64_t at = static_cast<int64_t>(to.size());
    to.insert(to.end(), values.begin(), values.end());
    return {at, static_cast<int64_t>(to.size())};
  }
  bool per_channel = true;

  void qparams(const std::string& attr, const ActivationPlan& a) {
    const QParams& p = a.qparams;
    const auto s = append(reals, {static_cast<float>(p.scale)});
    const auto z = append(ints, {p.zero_point});
    setstate += fmt::format("    self.{0}_scale = float(f[{1}])\n    self.{0}_zero_point = int(z[{2}])\n", attr,
                            s.first, z.first);
  }
  void layer(const std::string& attr, const LayerPlan& l);
};

// The stride-2 conv's 'same' padding (0 before, 1 after) becomes a zero first row and column of the
// kernel (4x4, symmetric padding 1), added at load time so the zeros take no room in the file.

void Blobs::layer(const std::string& a, const LayerPlan& l) {
  const std::string pad = l.pads_kernel() ? "    w = torch.constant_pad_nd(w, [1, 0, 1, 0], 0)\n" : "";
  const std::string shape = fmt::format("{}", fmt::join(l.weight_shape, ", "));
  const auto b = append(reals, l.bias);
  const std::string bias = fmt::format("f[{}:{}]", b.first, b.second);
  if (l.kept_float) {
    const auto w = append(reals, l.float_weight);
    setstate += fmt::format("    w = f[{}:{}].view([{}])\n{}    self.{}_weight = w\n    self.{}_bias = {}\n", w.first,
                            w.second, shape, pad, a, a, bias);
    return;
  }
  const auto w = append(weights, l.weight);
  const auto s = append(reals, l.weight_scales);
  setstate += fmt::format("    w = q[{}:{}].view([{}])\n{}", w.first, w.second, shape, pad);
  setstate += per_channel
                  ? fmt::format(
                        "    w = torch._make_per_channel_quantized_tensor(w, f[{}:{}].double(), "
                        "torch.zeros([{}], dtype=torch.long), 0)\n",
                        s.first, s.second, s.second - s.first)
                  : fmt::format("    w = torch._make_per_tensor_quantized_tensor(w, float(f[{}]), 0)\n", s.first);
  setstate += l.kind == LayerKind::kConv
                  ? fmt::format(
                        "    self.{0}_packed = ops.quantized.conv2d_prepack(w, {1}, [{2}, {2}], [{3}, {3}], "
                        "[1, 1], 1)\n",
                        a, bias, l.stride, l.pad_after)
                  : fmt::format("    self.{}_packed = ops.quantized.linear_prepack(w, {})\n", a, bias);
}

// The state and the statements that fill the module from it, in the order int8_state.h lays it out.
Blobs pack(const QuantPlan& plan) {
  Blobs blobs;
  blobs.per_channel = plan.per_channel;
  detail::walk_int8_state(plan, blobs);
  return blobs;
}

std::string conv_code(const LayerPlan& l, const std::string& in) {
  const std::string a = attr_name(l.name);
  if (l.kept_float) {  // dequantize, float conv, quantize again for the int8 layers after it
    const std::string y = fmt::format("torch.conv2d({}.dequantize(), self.{}_weight, self.{}_bias, [{}, {}], [{}, {}])",
                                      in, a, a, l.stride, l.stride, l.pad_after, l.pad_after);
    return fmt::format("torch.quantize_per_tensor({}, self.{}_scale, self.{}_zero_point, torch.quint8)",
                       l.relu ? "torch.relu(" + y + ")" : y, a, a);
  }
  return fmt::format("ops.quantized.{}({}, self.{}_packed, self.{}_scale, self.{}_zero_point)",
                     l.relu ? "conv2d_relu" : "conv2d", in, a, a, a);
}

// Variable names for the graph's value slots (Graph::value_slots): h for the first, y for the second, ...
std::string variable(int slot) {
  static const char* const names[] = {"h", "y", "z"};
  return slot < 3 ? names[slot] : fmt::format("t{}", slot);
}

// The expression of a node that computes a quantized tensor from the variables `in` of its inputs.
std::string node_code(const QuantPlan& plan, const Node& n, const std::vector<std::string>& in, int64_t channels) {
  const std::string a = attr_name(n.name);
  switch (n.kind) {
    case NodeKind::kInput:
      return fmt::format(
          "torch.quantize_per_tensor(x.permute([0, 3, 1, 2]), self.{0}_scale, self.{0}_zero_point, "
          "torch.quint8)",
          a);
    case NodeKind::kConv: return conv_code(plan.layer(n.name), in[0]);
    case NodeKind::kAdd:
      return fmt::format("ops.quantized.{}({}, {}, self.{}_scale, self.{}_zero_point)", n.relu ? "add_relu" : "add",
                         in[0], in[1], a, a);
    case NodeKind::kPool:
      if (n.point == plan.graph.node(n.inputs[0]).point) {  // LibTorch's quantized pool, at its input's grid
        return fmt::format("torch.adaptive_avg_pool2d({}, [1, 1]).reshape([-1, {}])", in[0], channels);
      }
      return fmt::format(
          "torch.quantize_per_tensor(torch.mean({}.dequantize(), [2, 3]), self.{}_scale, "
          "self.{}_zero_point, torch.quint8)",
          in[0], attr_name(n.point), attr_name(n.point));
    case NodeKind::kLinear:
      return fmt::format("ops.quantized.linear({}, self.{}_packed, self.{}_scale, self.{}_zero_point)", in[0], a, a, a);
    case NodeKind::kSoftmax: break;
  }
  throw Error(fmt::format("int8 file: no quantized code for node '{}'", n.name));
}

// `code` clamped to its point's N-bit range (plans of 6 bits and fewer: QuantPlan::clamps_activations()).
std::string clamped(const QuantPlan& plan, const Node& n, const std::string& code) {
  if (!plan.clamps_activations() || n.kind == NodeKind::kInput) return code;  // pixels are in range by construction
  const std::string p = attr_name(n.point);
  return fmt::format(
      "torch.clamp({0}, (0 - self.{1}_zero_point) * self.{1}_scale, ({2} - self.{1}_zero_point) * "
      "self.{1}_scale)",
      code, p, unsigned_qmax(plan.activation_bits));
}

// forward(), one statement per node of the plan's graph. Values are quantized tensors, except the output
// of a linear layer kept in fp32, which is written inline into the softmax that reads it.
std::string forward_code(const QuantPlan& plan) {
  const Graph& g = plan.graph;
  const std::vector<int> slots = g.value_slots();
  const std::vector<ValueShape> shapes = g.shapes();
  std::vector<std::string> value(g.nodes.size());
  std::vector<bool> is_float(g.nodes.size(), false);
  std::string src = "def forward(self, x: Tensor) -> Tensor:\n";
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    std::vector<std::string> in;
    for (const auto& name : n.inputs) {
      const size_t k = g.index(name);
      if (is_float[k] && n.kind != NodeKind::kSoftmax)
        throw Error(fmt::format("int8 file: node '{}' reads a float value", n.name));
      in.push_back(value[k]);
    }
    if (n.kind == NodeKind::kSoftmax) {
      return src + fmt::format("    return torch.softmax({}{}, 1)\n", in[0],
                               is_float[g.index(n.inputs[0])] ? "" : ".dequantize()");
    }
    if (n.kind == NodeKind::kLinear && plan.layer(n.name).kept_float) {
      const std::string a = attr_name(n.name);
      value[i] = fmt::format("torch.linear({}.dequantize(), self.{}_weight, self.{}_bias)", in[0], a, a);
      is_float[i] = true;
      continue;
    }
    value[i] = variable(slots[i]);
    src += fmt::format("    {} = {}\n", value[i], clamped(plan, n, node_code(plan, n, in, shapes[i].channels)));
  }
  throw Error("int8 file: the plan's graph does not end in a softmax");
}

// The start of __setstate__ for a scheme that only VNNI kernels compute exactly: it runs the
// saturation probe on the engine current at load time and refuses to load where pairs saturate,
// in any LibTorch (C++ or Python), instead of giving silently wrong results.
std::string saturation_guard(const Int8Scheme& scheme) {
  if (scheme.fits_int16_pairs()) return "";
  return fmt::format(
      "{}    if saturates:\n        raise Exception(\"resnet8: this int8 file uses {} (written for CPUs with VNNI); "
      "the int8 kernels of this CPU and engine add u8 x s8 pairs in int16 and would saturate. Quantize the model again "
      "here (resnet8-ptq: 7-bit weights, the default, are exact on every x86 CPU)\")\n",
      saturation_probe_body(), scheme.describe());
}

std::string state_code(const QuantPlan& plan, const Blobs& blobs) {
  return fmt::format(
      "def __getstate__(self) -> Tuple[Tensor, Tensor, Tensor, str, str, bool]:\n"
      "    return (self.qweights, self.reals, self.ints, self.engine, self.metadata, self.training)\n"
      "def __setstate__(self, state: Tuple[Tensor, Tensor, Tensor, str, str, bool]) -> None:\n"
      "    self.qweights = state[0]\n    self.reals = state[1]\n    self.ints = state[2]\n"
      "    self.engine = state[3]\n    self.metadata = state[4]\n    self.training = state[5]\n"
      "{}{}    f = self.reals\n    z = self.ints\n{}",
      saturation_guard(declared_scheme(plan)), unpack_bits_script("q", "self.qweights", detail::weight_runs(plan)),
      blobs.setstate);
}

// Typed placeholders for what __setstate__ assigns, so that define() can compile the methods.
void register_attributes(torch::jit::Module& module, const QuantPlan& plan) {
  const at::Tensor dummy = at::quantize_per_tensor(at::zeros({1, 1, 1, 1}), 1.0, 0, at::kQInt8);
  const c10::IValue conv =
      call_op("quantized::conv2d_prepack", {dummy, c10::IValue(), c10::List<int64_t>({1, 1}),
                                            c10::List<int64_t>({0, 0}), c10::List<int64_t>({1, 1}), int64_t{1}});
  const c10::IValue linear = call_op("quantized::linear_prepack", {dummy.reshape({1, 1}), c10::IValue()});
  std::vector<std::string> qparams;
  for (const Node* n : plan.graph.of_kind(NodeKind::kInput)) qparams.push_back(attr_name(n->name));
  for (const auto& l : plan.layers) {
    const std::string a = attr_name(l.name);
    qparams.push_back(a);
    if (l.kept_float) {
      module.register_attribute(a + "_weight", c10::TensorType::get(), at::Tensor());
      module.register_attribute(a + "_bias", c10::TensorType::get(), at::Tensor());
    } else {
      const c10::IValue& v = l.kind == LayerKind::kLinear ? linear : conv;
      module.register_attribute(a + "_packed", v.type(), v);
    }
  }
  for (const Node& n : plan.graph.nodes) {  // the other nodes with an activation point of their own
    if (n.kind != NodeKind::kInput && !plan.has_layer(n.name) && n.point == n.name)
      qparams.push_back(attr_name(n.name));
  }
  for (const auto& name : qparams) {
    module.register_attribute(name + "_scale", c10::FloatType::get(), 1.0);
    module.register_attribute(name + "_zero_point", c10::IntType::get(), int64_t{0});
  }
}

}  // namespace

Int8Scheme declared_scheme(const QuantPlan& plan) {
  check_int8_plan(plan);
  return Int8Scheme{plan.widest_weight_bits(), plan.activation_bits};
}

std::shared_ptr<torch::jit::Module> int8_module(const QuantPlan& plan, const std::string& engine,
                                                const std::string& metadata) {
  set_engine(engine);
  const Blobs blobs = pack(plan);
  const at::Tensor weights =
      at::tensor(c10::ArrayRef<uint8_t>(pack_bits(blobs.weights, detail::weight_runs(plan))), at::kByte);
  const at::Tensor reals = at::tensor(c10::ArrayRef<float>(blobs.reals), at::kFloat);
  const at::Tensor ints = at::tensor(c10::ArrayRef<int64_t>(blobs.ints), at::kLong);

  auto module = std::make_shared<torch::jit::Module>("__torch__.resnet8.QuantizedResNet8");
  module->register_attribute("training", c10::BoolType::get(), false);
  module->register_attribute("qweights", c10::TensorType::get(), weights);
  module->register_attribute("reals", c10::TensorType::get(), reals);
  module->register_attribute("ints", c10::TensorType::get(), ints);
  module->register_attribute("engine", c10::StringType::get(), engine);
  module->register_attribute("metadata", c10::StringType::get(), metadata);
  register_attributes(*module, plan);
  module->define(state_code(plan, blobs) + forward_code(plan), detail::quantized_ops_resolver());
  // Build the packed weights exactly as loading the saved file will.
  module->run_method("__setstate__", c10::ivalue::Tuple::create({weights, reals, ints, engine, metadata, false}));
  module->eval();
  return module;
}

}  // namespace resnet8
