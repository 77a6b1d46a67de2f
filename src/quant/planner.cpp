#include <resnet8/quant/planner.h>

#include <resnet8/support/error.h>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <limits>
#include <numeric>

namespace resnet8 {
namespace {

template <typename T>
std::vector<T> values(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return std::vector<T>(c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
}

void check_bits(const char* option, int bits) {
  if (bits < 2 || bits > 16) throw OptionError(option, fmt::format("{} must be 2..16, got {}", option, bits));
}

// `what` names one of `names` in the message ("layer", "activation point").
void check_names(const char* option, const char* what, const std::set<std::string>& names,
                 const std::vector<std::string>& known) {
  for (const auto& n : names) {
    if (std::find(known.begin(), known.end(), n) == known.end()) {
      throw OptionError(option, fmt::format("unknown {} '{}'; known: {}", what, n, fmt::join(known, ", ")));
    }
  }
}

// A layer's structure from its graph node: name, input point, kind, shape, geometry, whether it stays fp32.
LayerPlan layer_structure(const Graph& graph, const Node& node, const PlanOptions& options) {
  LayerPlan l;
  l.name = node.name;
  l.input = graph.node(node.inputs.at(0)).point;
  l.kept_float = options.float_layers.count(node.name) > 0;
  const auto bits = options.layer_weight_bits.find(node.name);
  l.weight_bits = bits == options.layer_weight_bits.end() ? options.weight_bits : bits->second;
  if (node.kind == NodeKind::kLinear) {
    l.kind = LayerKind::kLinear;
    l.weight_shape = {node.out_channels, node.in_channels};
    return l;
  }
  l.kind = LayerKind::kConv;
  l.weight_shape = {node.out_channels, node.in_channels, node.kernel, node.kernel};
  l.stride = node.stride;
  l.relu = node.relu;
  std::tie(l.pad_before, l.pad_after) = graph.padding(node.name);
  return l;
}

// A layer's values: its range, bias, and fp32 or quantized weights.
void fill_layer(LayerPlan& l, const at::Tensor& w, const at::Tensor& bias, const PlanOptions& options) {
  l.weight_min = w.min().item<double>();
  l.weight_max = w.max().item<double>();
  l.bias = values<float>(bias.to(at::kFloat));
  if (l.kept_float) {
    l.float_weight = values<float>(w.to(at::kFloat));
  } else {
    at::Tensor scales;
    l.weight = values<int32_t>(quantize_weight(w, l.weight_bits, options.per_channel, scales, options.weight_range));
    l.weight_scales = values<float>(scales);
  }
}

// Per row, the clipping range alpha * amax (alpha in [0.30, 1], step 0.005) with the least squared
// error of quantize-dequantize at float32 scales.
at::Tensor mse_range(const at::Tensor& rows, const at::Tensor& amax, double qmax) {
  at::Tensor best = amax.clone();
  at::Tensor best_err = at::full_like(amax, std::numeric_limits<double>::infinity());
  for (int step = 0; step <= 140; ++step) {
    const at::Tensor range = amax * (1.0 - 0.005 * step);
    const at::Tensor scale = (range / qmax).clamp_min(1e-12).to(at::kFloat).to(at::kDouble).unsqueeze(1);
    const at::Tensor err = (at::round(rows / scale).clamp(-qmax, qmax) * scale - rows).pow(2).sum(1);
    const at::Tensor better = err < best_err;
    best = at::where(better, range, best);
    best_err = at::where(better, err, best_err);
  }
  return best;
}

}  // namespace

std::vector<std::string> layer_names(const FoldedResNet8& model) {
  std::vector<std::string> out;
  for (const Node* n : model.graph.layers()) out.push_back(n->name);
  return out;
}

void check_float_layers(const FoldedResNet8& model, const std::set<std::string>& layers) {
  check_names("float_layers", "layer", layers, layer_names(model));
}

FloatLayer float_layer(const FoldedResNet8& model, const std::string& name) {
  if (!model.graph.has(name)) throw Error(fmt::format("the network has no layer '{}'", name));
  const Node& n = model.graph.node(name);
  if (n.kind == NodeKind::kLinear) return {model.fc_weight, model.fc_bias};
  const FoldedConv& c = model.conv(name);
  return {c.original_weight(), c.bias};
}

void round_bias(LayerPlan& l, const ActivationPlan& input) {
  if (l.kept_float || input.kept_float) return;
  for (size_t c = 0; c < l.bias.size(); ++c) {
    const float step = static_cast<float>(input.qparams.scale * l.weight_scales[l.weight_scales.size() == 1 ? 0 : c]);
    l.bias[c] = static_cast<float>(std::nearbyint(double(l.bias[c]) / double(step)) * double(step));
  }
}

WeightRange parse_weight_range(const std::string& name) {
  if (name == "max") return WeightRange::kMax;
  if (name == "mse") return WeightRange::kMse;
  throw OptionError("weight_range", fmt::format("unknown weight range '{}'; expected max or mse", name));
}

std::string weight_range_name(WeightRange range) { return range == WeightRange::kMse ? "mse" : "max"; }

at::Tensor quantize_weight(const at::Tensor& w, int bits, bool per_channel, at::Tensor& scales, WeightRange range) {
  check_bits("weight_bits", bits);
  const double qmax = static_cast<double>(symmetric_qmax(bits));
  std::vector<int64_t> shape(w.dim(), 1);
  if (per_channel) shape[0] = w.size(0);
  const at::Tensor rows = per_channel ? w.reshape({w.size(0), -1}) : w.reshape({1, -1});
  const at::Tensor amax = rows.abs().amax(1);  // in w's dtype, as the scales always were
  const at::Tensor range_max =
      range == WeightRange::kMse ? mse_range(rows.to(at::kDouble), amax.to(at::kDouble), qmax) : amax;
  scales = (range_max / qmax).clamp_min(1e-12).to(at::kFloat);
  return at::round(w / scales.to(at::kDouble).view(shape)).clamp(-qmax, qmax).to(at::kInt);
}

Graph plan_graph(const Graph& network, bool pool_point) {
  Graph g = network;
  for (Node& n : g.nodes) {
    if (n.kind == NodeKind::kPool) n.point = pool_point ? n.name : g.node(n.inputs.at(0)).point;
  }
  return g;
}

std::vector<std::string> activation_points(const Graph& plan_graph) {
  std::vector<std::string> out;
  for (const Node& n : plan_graph.nodes) {
    if (!n.point.empty() && std::find(out.begin(), out.end(), n.point) == out.end()) out.push_back(n.point);
  }
  return out;
}

std::vector<std::string> activation_points(const FoldedResNet8& model) {
  return activation_points(plan_graph(model.graph));
}

QuantPlan plan_structure(const Graph& network, const PlanOptions& options) {
  check_bits("weight_bits", options.weight_bits);
  check_bits("activation_bits", options.activation_bits);
  QuantPlan plan;
  plan.graph = plan_graph(network, options.pool_point);
  std::vector<std::string> layers;
  for (const Node* n : plan.graph.layers()) layers.push_back(n->name);
  check_names("float_layers", "layer", options.float_layers, layers);
  std::set<std::string> other_widths;
  for (const auto& [layer, bits] : options.layer_weight_bits) {
    check_bits("layer_weight_bits", bits);
    other_widths.insert(layer);
  }
  check_names("layer_weight_bits", "layer", other_widths, layers);
  const std::vector<std::string> points = activation_points(plan.graph);
  check_names("float_points", "activation point", options.float_points, points);
  plan.weight_bits = options.weight_bits;
  plan.activation_bits = options.activation_bits;
  plan.per_channel = options.per_channel;
  plan.weight_mse = options.weight_range == WeightRange::kMse;
  for (const auto& point : points) {
    ActivationPlan a;
    a.point = point;
    a.kept_float = options.float_points.count(point) > 0;
    plan.activations.push_back(a);
  }
  for (const Node* n : plan.graph.layers()) plan.layers.push_back(layer_structure(plan.graph, *n, options));
  return plan;
}

QuantPlan make_plan(const FoldedResNet8& model, const ActivationRanges& ranges, const PlanOptions& options) {
  QuantPlan plan = plan_structure(model.graph, options);
  for (const auto& a : plan.activations) {
    if (std::find(ranges.points().begin(), ranges.points().end(), a.point) == ranges.points().end()) {
      throw Error(fmt::format("the calibrated ranges are not of this network (no activation point '{}')", a.point));
    }
  }
  plan.observer = ranges.observer();
  const int64_t qmax = unsigned_qmax(options.activation_bits);
  for (auto& a : plan.activations) {
    a.observed_min = ranges.observed(a.point).min();
    a.observed_max = ranges.observed(a.point).max();
    std::tie(a.range_min, a.range_max) = ranges.range(a.point, qmax + 1);
    a.qparams = affine_qparams(a.range_min, a.range_max, 0, qmax);
  }
  for (auto& l : plan.layers) {
    const FloatLayer f = float_layer(model, l.name);
    fill_layer(l, f.weight, f.bias, options);
    round_bias(l, plan.activation(l.input));
  }
  return plan;
}

}  // namespace resnet8
