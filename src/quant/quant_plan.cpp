#include <resnet8/quant/quant_plan.h>

#include <resnet8/support/error.h>

#include <fmt/format.h>

#include <algorithm>

namespace resnet8 {

bool QuantPlan::has_layer(const std::string& name) const {
  return std::any_of(layers.begin(), layers.end(), [&](const LayerPlan& l) { return l.name == name; });
}

const LayerPlan& QuantPlan::layer(const std::string& name) const {
  for (const auto& l : layers) {
    if (l.name == name) return l;
  }
  throw Error(fmt::format("the quantization plan has no layer '{}'", name));
}

const ActivationPlan& QuantPlan::activation(const std::string& point) const {
  for (const auto& a : activations) {
    if (a.point == point) return a;
  }
  throw Error(fmt::format("the quantization plan has no activation point '{}'", point));
}

std::vector<std::string> QuantPlan::float_layers() const {
  std::vector<std::string> out;
  for (const auto& l : layers) {
    if (l.kept_float) out.push_back(l.name);
  }
  return out;
}

bool QuantPlan::fully_quantized_activations() const {
  return std::none_of(activations.begin(), activations.end(), [](const ActivationPlan& a) { return a.kept_float; });
}

int QuantPlan::widest_weight_bits() const {
  int bits = weight_bits;
  for (const auto& l : layers) {
    if (!l.kept_float) bits = std::max(bits, l.weight_bits);
  }
  return bits;
}

std::vector<std::pair<std::string, int>> QuantPlan::other_weight_bits() const {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& l : layers) {
    if (!l.kept_float && l.weight_bits != weight_bits) out.emplace_back(l.name, l.weight_bits);
  }
  return out;
}

bool QuantPlan::pool_has_own_point() const {
  return std::any_of(graph.nodes.begin(), graph.nodes.end(), [&](const Node& n) {
    return n.kind == NodeKind::kPool && n.point != graph.node(n.inputs[0]).point;
  });
}

void check_int8_plan(const QuantPlan& plan, int min_activation_bits) {
  if (plan.weight_bits < 2 || plan.weight_bits > 8) {
    throw OptionError("weight_bits", fmt::format("int8 files take 2..8-bit weights, got {}", plan.weight_bits));
  }
  for (const auto& [layer, bits] : plan.other_weight_bits()) {
    if (bits < 2 || bits > 8) {
      throw OptionError("layer_weight_bits",
                        fmt::format("int8 files take 2..8-bit weights, got {} in {}", bits, layer));
    }
  }
  if (plan.activation_bits < min_activation_bits || plan.activation_bits > 8) {
    throw OptionError("activation_bits", fmt::format("this format takes {}..8-bit activations, got {}",
                                                     min_activation_bits, plan.activation_bits));
  }
  if (!plan.fully_quantized_activations()) {
    throw OptionError("float_points", "int8 files quantize every activation point; the plan keeps some in float");
  }
}

}  // namespace resnet8
