#include <resnet8/quantize.h>

#include "script_resolver.h"

#include <resnet8/atomic_file.h>
#include <resnet8/engine.h>
#include <resnet8/error.h>

#include <ATen/core/dispatch/Dispatcher.h>
#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/script.h>
#include <torch/version.h>

#include <map>

namespace fs = std::filesystem;

namespace resnet8 {
namespace {

std::string attr_name(const std::string& layer) {
  std::string s = layer;
  for (char& c : s) c = c == '.' ? '_' : c;
  return s;
}

c10::IValue call_op(const char* name, torch::jit::Stack stack) {
  const auto op = c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
  op.callBoxed(&stack);
  return stack.at(0);
}

// Symmetric qint8 weights in [-127, 127]: per output channel or per tensor.
at::Tensor quantize_weight(const at::Tensor& w, bool per_channel, std::vector<double>& scales_out) {
  if (per_channel) {
    std::vector<int64_t> dims(w.dim() - 1);
    std::iota(dims.begin(), dims.end(), 1);
    const at::Tensor scales = (w.abs().amax(dims).to(at::kDouble) / 127.0).clamp_min(1e-12);
    scales_out.assign(scales.data_ptr<double>(), scales.data_ptr<double>() + scales.numel());
    return at::quantize_per_channel(w, scales, at::zeros({w.size(0)}, at::kLong), 0, at::kQInt8);
  }
  const double scale = std::max(w.abs().max().item<double>() / 127.0, 1e-12);
  scales_out = {scale};
  return at::quantize_per_tensor(w, scale, 0, at::kQInt8);
}

std::string json_str(const std::string& s) { return fmt::format("\"{}\"", s); }  // names only: no escaping needed

}  // namespace

QuantizedResNet8 quantize(const FoldedResNet8& model, const cifar10::Dataset& calibration,
                          const QuantizeOptions& options) {
  QuantizedResNet8 q;
  q.options = options;
  q.engine = options.engine.empty() ? default_engine() : options.engine;
  set_engine(q.engine);
  q.reduce_range = options.reduce_range.value_or(default_reduce_range(q.engine));
  if (calibration.size() == 0) throw Error("the calibration set is empty");

  // Calibration: pass 1 min/max, pass 2 histograms (not needed for minmax).
  std::map<std::string, RangeObserver> observers;
  std::vector<std::string> order;
  const int passes = options.observer == ObserverKind::kMinMax ? 1 : 2;
  c10::InferenceMode inference;
  for (int pass = 1; pass <= passes; ++pass) {
    for (int64_t begin = 0; begin < calibration.size(); begin += options.batch_size) {
      const int64_t end = std::min(begin + options.batch_size, calibration.size());
      model.forward(cifar10::to_model_input(calibration.images.slice(0, begin, end)),
                    [&](const std::string& point, const at::Tensor& t) {
                      if (pass == 1) {
                        if (!observers.count(point)) order.push_back(point);
                        observers[point].observe_minmax(t);
                      } else {
                        observers[point].observe_histogram(t);
                      }
                    });
      if (options.on_progress) {
        options.on_progress(fmt::format("calibrating (pass {}/{})", pass, passes), end, calibration.size());
      }
    }
  }

  const int64_t qmax = q.reduce_range ? 127 : 255;
  std::map<std::string, QParams> qparams;
  for (const auto& point : order) {
    const RangeObserver& obs = observers.at(point);
    ActivationQuant a;
    a.point = point;
    a.observed_min = obs.min();
    a.observed_max = obs.max();
    // The input is raw 0..255 pixels: its range is known, not estimated.
    std::tie(a.range_min, a.range_max) =
        point == "input" ? std::pair<double, double>{0.0, 255.0} : obs.range(options.observer, qmax + 1);
    a.qparams = affine_qparams(a.range_min, a.range_max, 0, qmax);
    qparams[point] = a.qparams;
    q.activations.push_back(a);
  }

  // The int8 module: attributes hold packed weights and output scales/zero points.
  auto module = std::make_shared<torch::jit::Module>("__torch__.resnet8.QuantizedResNet8");
  auto add_qparams = [&](const std::string& attr, const QParams& p) {
    module->register_attribute(attr + "_scale", c10::FloatType::get(), p.scale);
    module->register_attribute(attr + "_zero_point", c10::IntType::get(), p.zero_point);
  };
  auto add_layer = [&](const std::string& name, const at::Tensor& weight, const c10::IValue& packed,
                       const std::vector<double>& scales, const QParams& out) {
    module->register_attribute(attr_name(name) + "_packed", packed.type(), packed);
    add_qparams(attr_name(name), out);
    LayerQuant l;
    l.name = name;
    l.weight_shape = weight.sizes().vec();
    l.weight_min = weight.min().item<double>();
    l.weight_max = weight.max().item<double>();
    l.weight_scales = scales;
    l.output = out;
    q.layers.push_back(l);
  };
  add_qparams("input", qparams.at("input"));

  // Observation point of each conv's output.
  auto point_of = [](const FoldedConv& c) { return c.name == "stem.conv" ? std::string("stem") : c.name; };
  for (const FoldedConv* c : model.convs()) {
    std::vector<double> scales;
    const at::Tensor qweight = quantize_weight(c->weight, options.per_channel, scales);
    const c10::IValue packed =
        call_op("quantized::conv2d_prepack",
                {qweight, c->bias, c10::List<int64_t>({c->stride, c->stride}),
                 c10::List<int64_t>({c->padding, c->padding}), c10::List<int64_t>({1, 1}), int64_t{1}});
    add_layer(c->name, c->weight, packed, scales, qparams.at(point_of(*c)));
  }
  for (const auto& s : model.stacks) add_qparams(s.name + "_add", qparams.at(s.name + ".add"));
  {
    std::vector<double> scales;
    const at::Tensor qweight = quantize_weight(model.fc_weight, options.per_channel, scales);
    add_layer("fc", model.fc_weight, call_op("quantized::linear_prepack", {qweight, model.fc_bias}), scales,
              qparams.at("fc"));
  }
  module->register_attribute("engine", c10::StringType::get(), q.engine);
  module->register_attribute("metadata", c10::StringType::get(), q.metadata_json());

  // forward(), generated from the folded network's structure.
  auto conv = [](const FoldedConv& c, const std::string& in) {
    const std::string a = attr_name(c.name);
    return fmt::format("ops.quantized.{}({}, self.{}_packed, self.{}_scale, self.{}_zero_point)",
                       c.relu ? "conv2d_relu" : "conv2d", in, a, a, a);
  };
  std::string src =
      "def forward(self, x: Tensor) -> Tensor:\n"
      "    h = torch.quantize_per_tensor(x.permute([0, 3, 1, 2]), self.input_scale, self.input_zero_point, "
      "torch.quint8)\n";
  src += fmt::format("    h = {}\n", conv(model.stem, "h"));
  for (const auto& s : model.stacks) {
    src += fmt::format("    y = {}\n", conv(s.conv1, "h"));
    src += fmt::format("    y = {}\n", conv(s.conv2, "y"));
    if (s.has_shortcut) src += fmt::format("    h = {}\n", conv(s.shortcut, "h"));
    src += fmt::format("    h = ops.quantized.add_relu(y, h, self.{0}_add_scale, self.{0}_add_zero_point)\n", s.name);
  }
  src +=
      "    h = torch.adaptive_avg_pool2d(h, [1, 1]).reshape([-1, 64])\n"
      "    h = ops.quantized.linear(h, self.fc_packed, self.fc_scale, self.fc_zero_point)\n"
      "    return torch.softmax(h.dequantize(), 1)\n";
  module->define(src, detail::quantized_ops_resolver());
  module->eval();
  q.module = module;
  return q;
}

std::string QuantizedResNet8::metadata_json() const {
  return fmt::format(
      "{{\"producer\": \"resnet8-ptq {}\", \"libtorch\": \"{}\", \"engine\": \"{}\", \"reduce_range\": {}, "
      "\"observer\": \"{}\", \"weights\": \"{}\", \"calibration\": {{\"split\": \"train\", \"per_class\": {}, "
      "\"seed\": {}}}}}",
      RESNET8_VERSION, TORCH_VERSION, engine, reduce_range, observer_name(options.observer),
      options.per_channel ? "per_channel_symmetric_qint8" : "per_tensor_symmetric_qint8", options.calib_per_class,
      options.seed);
}

std::string QuantizedResNet8::report_json() const {
  std::vector<std::string> acts, lays;
  for (const auto& a : activations) {
    acts.push_back(fmt::format(
        "    {{\"point\": {}, \"observed\": [{:.6g}, {:.6g}], \"range\": [{:.6g}, {:.6g}], \"scale\": {:.9g}, "
        "\"zero_point\": {}}}",
        json_str(a.point), a.observed_min, a.observed_max, a.range_min, a.range_max, a.qparams.scale,
        a.qparams.zero_point));
  }
  for (const auto& l : layers) {
    std::vector<std::string> scales;
    for (double s : l.weight_scales) scales.push_back(fmt::format("{:.9g}", s));
    lays.push_back(fmt::format(
        "    {{\"layer\": {}, \"weight_shape\": [{}], \"weight_range\": [{:.6g}, {:.6g}], \"weight_scales\": [{}], "
        "\"output_scale\": {:.9g}, \"output_zero_point\": {}}}",
        json_str(l.name), fmt::join(l.weight_shape, ", "), l.weight_min, l.weight_max, fmt::join(scales, ", "),
        l.output.scale, l.output.zero_point));
  }
  return fmt::format("{{\n  \"metadata\": {},\n  \"activations\": [\n{}\n  ],\n  \"layers\": [\n{}\n  ]\n}}",
                     metadata_json(), fmt::join(acts, ",\n"), fmt::join(lays, ",\n"));
}

void save_quantized(const QuantizedResNet8& q, const fs::path& file) {
  const torch::jit::ExtraFilesMap extra = {{kMetadataRecord, q.metadata_json()}, {kEngineRecord, q.engine}};
  write_file_atomic(file, [&](const fs::path& tmp) {
    try {
      q.module->save(tmp.string(), extra);
    } catch (const c10::Error& e) {
      throw Error(fmt::format("{}: cannot write ({})", file.string(), e.what_without_backtrace()));
    }
  });
}

std::string recorded_engine(const fs::path& file) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(file.string());
  } catch (const c10::Error&) {
    throw Error(fmt::format("{}: not a TorchScript file (not a PyTorch zip archive)", file.string()));
  }
  const std::string record = std::string("extra/") + kEngineRecord;
  if (!reader->hasRecord(record)) return "";
  const auto [data, size] = reader->getRecord(record);
  return std::string(static_cast<const char*>(data.get()), size);
}

}  // namespace resnet8
