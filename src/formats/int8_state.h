#pragma once
// The order in which an int8 file's flat state (int8_torchscript.h) holds a plan's values: one walk, used by
// the writer (int8_torchscript.cpp) and by the data-only reader (int8_file.cpp). Visitors get
//   qparams(attr, activation)  one float32 scale (reals) and one int64 zero point (ints);
//   layer(attr, layer)         the bias (reals); the fp32 weights (reals) when kept float, else the N-bit
//                              weights (the bit-packed stream) and their scales (reals).
// `attr` is the module attribute prefix: the graph node's name with '_' for '.' ("stem_conv").
#include <resnet8/formats/bit_pack.h>
#include <resnet8/quant/quant_plan.h>
#include <resnet8/support/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

namespace resnet8::detail {

inline std::string attr_name(const std::string& layer) {
  std::string s = layer;
  std::replace(s.begin(), s.end(), '.', '_');
  return s;
}

// Lookups that work on a const and a mutable plan alike.
template <typename Items, typename Name>
auto& find_named(Items& items, Name name_of, const std::string& name, const char* what) {
  const auto it = std::find_if(items.begin(), items.end(), [&](const auto& item) { return name_of(item) == name; });
  if (it == items.end()) throw Error(fmt::format("the quantization plan has no {} '{}'", what, name));
  return *it;
}
template <typename Plan>
auto& activation_of(Plan& plan, const std::string& point) {
  return find_named(
      plan.activations, [](const auto& a) { return a.point; }, point, "activation point");
}
template <typename Plan>
auto& layer_of(Plan& plan, const std::string& name) {
  return find_named(
      plan.layers, [](const auto& l) { return l.name; }, name, "layer");
}

// The state's order: the input's parameters; each conv node's layer and output parameters; the other
// nodes with a point of their own (the residual adds); the linear node's layer and output parameters.
template <typename Plan, typename Visitor>
void walk_int8_state(Plan& plan, Visitor& v) {
  const Graph& g = plan.graph;
  const auto layer_nodes = [&](NodeKind kind) {
    for (const Node* n : g.of_kind(kind)) {
      v.layer(attr_name(n->name), layer_of(plan, n->name));
      v.qparams(attr_name(n->name), activation_of(plan, n->point));
    }
  };
  for (const Node* n : g.of_kind(NodeKind::kInput)) v.qparams(attr_name(n->name), activation_of(plan, n->point));
  layer_nodes(NodeKind::kConv);
  for (const Node& n : g.nodes) {
    if (n.kind != NodeKind::kConv && n.kind != NodeKind::kLinear && n.kind != NodeKind::kInput && n.point == n.name) {
      v.qparams(attr_name(n.name), activation_of(plan, n.point));
    }
  }
  layer_nodes(NodeKind::kLinear);
}

// The bit-packed stream's runs (bit_pack.h): the quantized layers' weights in the walk's order, each at its
// layer's width, consecutive layers of one width in one run. A plan of one width is one run.
inline std::vector<BitRun> weight_runs(const QuantPlan& plan) {
  struct Runs {
    std::vector<BitRun> runs;
    void qparams(const std::string&, const ActivationPlan&) {}
    void layer(const std::string&, const LayerPlan& l) {
      if (l.kept_float) return;
      if (runs.empty() || runs.back().bits != l.weight_bits) runs.push_back({0, l.weight_bits});
      runs.back().count += l.weight_count();
    }
  } v;
  walk_int8_state(plan, v);
  if (v.runs.empty()) v.runs.push_back({0, plan.weight_bits});
  return v.runs;
}

}  // namespace resnet8::detail
