#include <resnet8/pipeline/json.h>

#include <resnet8/data/cifar10.h>
#include <resnet8/model/folded.h>
#include <resnet8/pipeline/analysis.h>
#include <resnet8/pipeline/quantize.h>
#include <resnet8/quant/equalize.h>
#include <resnet8/quant/quant_plan.h>
#include <resnet8/quant/refine.h>
#include <resnet8/run/benchmark.h>
#include <resnet8/run/op_profile.h>
#include <resnet8/run/report.h>

#include <ATen/ATen.h>
#include <torch/version.h>

namespace resnet8 {

using nlohmann::json;

namespace {

json model_json(const std::string& path, const std::string& kind, std::uintmax_t bytes, const std::string& engine,
                const std::string& kernels) {
  return {{"path", path}, {"kind", kind}, {"bytes", bytes}, {"quantized_engine", engine}, {"kernels", kernels}};
}

}  // namespace

void to_json(json& j, const ActivationPlan& a) {
  j = {
      {"point", a.point},         {"observed", {a.observed_min, a.observed_max}}, {"range", {a.range_min, a.range_max}},
      {"scale", a.qparams.scale}, {"zero_point", a.qparams.zero_point},           {"kept_float", a.kept_float}};
}

void to_json(json& j, const LayerPlan& l) {
  j = {{"layer", l.name},
       {"input", l.input},
       {"kind", l.kind == LayerKind::kConv ? "conv" : "linear"},
       {"weight_shape", l.weight_shape},
       {"weight_range", {l.weight_min, l.weight_max}},
       {"kept_float", l.kept_float},
       {"weight_bits", l.weight_bits},
       {"weight_scales", l.weight_scales}};
  if (l.kind == LayerKind::kConv) {
    j["stride"] = l.stride;
    j["pads"] = {l.pad_before, l.pad_after};
    j["relu"] = l.relu;
  }
}

void to_json(json& j, const Node& n) {
  j = {{"name", n.name}, {"kind", node_kind_name(n.kind)}, {"inputs", n.inputs}, {"point", n.point}, {"relu", n.relu}};
}

void to_json(json& j, const QuantPlan& plan) {
  j = {{"weight_bits", plan.weight_bits},
       {"activation_bits", plan.activation_bits},
       {"weights", plan.per_channel ? "per_channel_symmetric" : "per_tensor_symmetric"},
       {"weight_range", plan.weight_mse ? "mse" : "max"},
       {"equalized", plan.equalized},
       {"rounding", plan.rounding},
       {"bias_corrected", plan.bias_corrected},
       {"observer", observer_name(plan.observer)},
       {"graph", plan.graph.nodes},
       {"activations", plan.activations},
       {"layers", plan.layers}};
}

void to_json(json& j, const EqualizedPair& p) { j = {{"first", p.first}, {"second", p.second}, {"scales", p.scales}}; }

void to_json(json& j, const LayerRefinement& r) {
  j = {{"layer", r.layer},
       {"error_nearest", r.error_nearest},
       {"error", r.error},
       {"rounding_changed", r.rounding_changed},
       {"rounding_soft", r.rounding_soft},
       {"max_bias_shift", r.max_bias_shift}};
}

void to_json(json& j, const RefineReport& r) { j = {{"seconds", r.seconds}, {"layers", r.layers}}; }

void to_json(json& j, const EvalReport& r) {
  json per_class = json::array();
  for (int c = 0; c < cifar10::kNumClasses; ++c) {
    per_class.push_back({{"class", c},
                         {"name", cifar10::kClassNames[c]},
                         {"correct", r.class_correct(c)},
                         {"total", r.class_total(c)},
                         {"accuracy", r.class_accuracy(c)}});
  }
  j = {{"model", model_json(r.model_path, model_kind_name(r.model_kind), r.model_bytes, r.quantized_engine, r.kernels)},
       {"data", r.data_dir},
       {"libtorch_version", r.libtorch_version},
       {"threads", r.threads},
       {"batch_size", r.batch_size},
       {"images", r.images},
       {"correct", r.correct},
       {"accuracy", r.accuracy()},
       {"seconds", r.seconds},
       {"images_per_second", r.images_per_second()},
       {"per_class", per_class},
       {"confusion_matrix", r.confusion}};
}

void to_json(json& j, const BenchResult& r) {
  j = {{"threads", r.threads},
       {"batch_size", r.batch_size},
       {"images_per_second", r.median_images_per_second()},
       {"gops", r.median_gops()},
       {"runs", r.images_per_second}};
  if (!r.latency_ms.empty())
    j["latency_ms"] = {{"p50", r.latency_percentile_ms(50)},
                       {"p90", r.latency_percentile_ms(90)},
                       {"p99", r.latency_percentile_ms(99)}};
}

void to_json(json& j, const BenchReport& r) {
  j = {{"model", model_json(r.model_path, model_kind_name(r.model_kind), r.model_bytes, r.quantized_engine, r.kernels)},
       {"libtorch_version", r.libtorch_version},
       {"repeats", r.repeats},
       {"images_per_pass", r.images},
       {"peak_rss_bytes", r.peak_rss_bytes},
       {"ops_per_image", r.ops_per_image},
       {"arithmetic", r.integer ? "integer" : "float"},
       {"results", r.results}};
  if (!r.profiles.empty()) j["profiles"] = r.profiles;
}

void to_json(json& j, const OpProfile& p) {
  const auto rows = [](const std::vector<OpTime>& ops) {
    json out = json::array();
    for (const auto& o : ops)
      out.push_back({{"op", o.op}, {"calls_per_forward", o.calls_per_forward}, {"us_per_forward", o.us_per_forward}});
    return out;
  };
  j = {{"threads", p.threads},   {"batch_size", p.batch_size},
       {"forwards", p.forwards}, {"us_per_forward", p.us_per_forward},
       {"ops", rows(p.ops)},     {"between_ops_us", p.outside_ops_us()},
       {"self", rows(p.self)}};
}

void to_json(json& j, const SweepPoint& p) {
  j = {{"weights", p.per_channel ? "per_channel" : "per_tensor"},
       {"weight_bits", p.bits.weight_bits},
       {"activation_bits", p.bits.activation_bits},
       {"accuracy", p.accuracy}};
}

void to_json(json& j, const LayerSensitivity& s) {
  j = {{"layer", s.layer},
       {"config", s.bits.name()},
       {"weight_bits", s.bits.weight_bits},
       {"activation_bits", s.bits.activation_bits},
       {"drop", s.drop}};
}

void to_json(json& j, const MixedPrecisionStep& s) {
  j = {{"k", s.fp32_layers.size()}, {"fp32_layers", s.fp32_layers}, {"accuracy", s.accuracy}, {"drop", s.drop}};
}

void to_json(json& j, const MethodComparison& m) {
  json methods = json::object();
  for (const MethodAccuracy& a : m.accuracy) methods[a.method] = a.accuracy;
  j = {{"config", m.bits.name()}, {"accuracy", methods}};
}

void to_json(json& j, const MixedPrecision& m) {
  j = {{"config", m.bits.name()}, {"max_drop", m.max_drop}, {"steps", m.steps}};
}

void to_json(json& j, const WhatIf& w) {
  j = {{"config", w.bits.name()},
       {"weights", w.per_channel ? "per_channel" : "per_tensor"},
       {"fp32_layers", w.float_layers},
       {"plan", w.plan},
       {"fp32", w.fp32},
       {"simulated", w.simulated}};
}

json weights_json(const QuantizedResNet8& q) {
  json out = json::object();
  for (const LayerPlan& l : q.plan.layers) {
    const at::Tensor fp32 =
        (l.kind == LayerKind::kConv ? q.network.conv(l.name).original_weight() : q.network.fc_weight).contiguous();
    const auto* f = fp32.data_ptr<float>();
    out[l.name] = {{"shape", l.weight_shape},
                   {"weights", l.kept_float ? json(l.float_weight) : json(l.weight)},
                   {"fp32_weights", std::vector<float>(f, f + fp32.numel())}};
  }
  return out;
}

std::string json_text(const json& j) { return j.dump(2) + "\n"; }

}  // namespace resnet8
