#include <resnet8/fake_quant.h>

#include <resnet8/error.h>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include <numeric>

namespace resnet8 {

at::Tensor fake_quant_affine(const at::Tensor& x, double scale, int64_t zero_point, int64_t qmin, int64_t qmax) {
  return (at::clamp(at::round(x / scale) + zero_point, qmin, qmax) - zero_point) * scale;
}

at::Tensor fake_quant_weight(const at::Tensor& w, int bits, bool per_channel) {
  if (bits < 2 || bits > 16) throw Error(fmt::format("weight bit-width must be 2..16, got {}", bits));
  const int64_t qmax = (int64_t{1} << (bits - 1)) - 1;
  std::vector<int64_t> dims(w.dim() - 1), shape(w.dim(), 1);
  std::iota(dims.begin(), dims.end(), 1);
  at::Tensor amax = per_channel ? w.abs().amax(dims) : w.abs().max().reshape({1});
  if (per_channel) shape[0] = w.size(0);
  const at::Tensor scale = (amax / double(qmax)).clamp_min(1e-12).view(shape);
  return at::clamp(at::round(w / scale), -qmax, qmax) * scale;
}

std::vector<std::string> quantizable_layers(const FoldedResNet8& model) {
  std::vector<std::string> out;
  for (const FoldedConv* c : model.convs()) out.push_back(c->name);
  out.push_back("fc");
  return out;
}

std::string output_point(const std::string& layer) { return layer == "stem.conv" ? "stem" : layer; }

ActivationRanges::ActivationRanges(const FoldedResNet8& model, const cifar10::Dataset& calibration,
                                   ObserverKind observer)
    : kind_(observer) {
  c10::InferenceMode guard;
  for (int pass = 1; pass <= 2; ++pass) {
    for (int64_t begin = 0; begin < calibration.size(); begin += 500) {
      const int64_t end = std::min<int64_t>(begin + 500, calibration.size());
      model.forward(cifar10::to_model_input(calibration.images.slice(0, begin, end)),
                    [&](const std::string& point, const at::Tensor& t) {
                      if (pass == 1) observers_[point].observe_minmax(t);
                      else observers_[point].observe_histogram(t);
                    });
    }
  }
}

QParams ActivationRanges::qparams(const std::string& point, int bits) const {
  if (bits < 2 || bits > 16) throw Error(fmt::format("activation bit-width must be 2..16, got {}", bits));
  const int64_t qmax = (int64_t{1} << bits) - 1;
  if (point == "input") return affine_qparams(0.0, 255.0, 0, qmax);  // raw pixels: known range
  const auto it = observers_.find(point);
  if (it == observers_.end()) throw Error(fmt::format("no calibrated range for activation '{}'", point));
  const auto [lo, hi] = it->second.range(kind_, qmax + 1);
  return affine_qparams(lo, hi, 0, qmax);
}

FakeQuantModel fake_quantize(const FoldedResNet8& model, const ActivationRanges& ranges, const FakeQuantConfig& config) {
  const auto all = quantizable_layers(model);
  for (const auto& l : config.float_layers) {
    if (std::find(all.begin(), all.end(), l) == all.end()) throw Error(fmt::format("unknown layer '{}'", l));
  }
  auto selected = [&](const std::string& layer) { return config.float_layers.count(layer) == 0; };

  FakeQuantModel out{model, nullptr};
  auto quantize_conv = [&](FoldedConv& c) {
    if (selected(c.name)) c.weight = fake_quant_weight(c.weight, config.weight_bits, config.per_channel);
  };
  quantize_conv(out.model.stem);
  for (auto& s : out.model.stacks) {
    quantize_conv(s.conv1);
    quantize_conv(s.conv2);
    if (s.has_shortcut) quantize_conv(s.shortcut);
  }
  if (selected("fc")) out.model.fc_weight = fake_quant_weight(out.model.fc_weight, config.weight_bits, config.per_channel);

  std::map<std::string, QParams> points;
  if (config.input_and_adds) {
    points["input"] = ranges.qparams("input", config.activation_bits);
    for (const auto& s : model.stacks) points[s.name + ".add"] = ranges.qparams(s.name + ".add", config.activation_bits);
  }
  for (const auto& l : all) {
    if (selected(l)) points[output_point(l)] = ranges.qparams(output_point(l), config.activation_bits);
  }
  const int64_t qmax = (int64_t{1} << config.activation_bits) - 1;
  out.transform = [points, qmax](const std::string& point, const at::Tensor& t) {
    const auto it = points.find(point);
    return it == points.end() ? t : fake_quant_affine(t, it->second.scale, it->second.zero_point, 0, qmax);
  };
  return out;
}

}  // namespace resnet8
