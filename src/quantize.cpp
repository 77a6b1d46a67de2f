#include <resnet8/quantize.h>

#include "script_resolver.h"

#include <resnet8/atomic_file.h>
#include <resnet8/engine.h>
#include <resnet8/error.h>
#include <resnet8/report.h>

#include <ATen/core/dispatch/Dispatcher.h>
#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/version.h>

#include <map>
#include <set>
#include <numeric>

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

// Everything the int8 module needs, flattened into three tensors (int8 weights, float32 biases and
// scales, int64 zero points) so the file stays small; the module's __setstate__ rebuilds the packed
// weights from them at load time, for the engine current then.
struct Blobs {
  std::vector<int8_t> weights;
  std::vector<float> reals;
  std::vector<int64_t> ints;

  int64_t add_weights(const at::Tensor& w) {
    const at::Tensor c = w.contiguous();
    const int64_t at = static_cast<int64_t>(weights.size());
    weights.insert(weights.end(), c.data_ptr<int8_t>(), c.data_ptr<int8_t>() + c.numel());
    return at;
  }
  int64_t add_reals(const at::Tensor& t) {
    const at::Tensor c = t.to(at::kFloat).contiguous();
    const int64_t at = static_cast<int64_t>(reals.size());
    reals.insert(reals.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    return at;
  }
  int64_t add_real(double v) { return add_reals(at::tensor({static_cast<float>(v)})); }
  int64_t add_int(int64_t v) {
    ints.push_back(v);
    return static_cast<int64_t>(ints.size()) - 1;
  }
};

// The start of __setstate__ for a scheme that only VNNI kernels compute exactly: it runs the
// saturation probe on the engine current at load time and refuses to load where pairs saturate,
// in any LibTorch (C++ or Python), instead of giving silently wrong results.
std::string saturation_guard(const Int8Scheme& scheme) {
  return fmt::format(
      "{}    if saturates:\n        raise Exception(\"resnet8: this int8 file uses {} (written for CPUs with VNNI); "
      "the int8 kernels of this CPU and engine add u8 x s8 pairs in int16 and would saturate. Quantize the model again "
      "here (resnet8-ptq: 7-bit weights, the default, are exact on every x86 CPU)\")\n",
      saturation_probe_body(), scheme.describe());
}

}  // namespace

at::Tensor quantize_weight(const at::Tensor& w, int bits, bool per_channel, at::Tensor& scales) {
  const double qmax = static_cast<double>(Int8Scheme{bits, false}.weight_qmax());
  std::vector<int64_t> dims(w.dim() - 1), shape(w.dim(), 1);
  std::iota(dims.begin(), dims.end(), 1);
  const at::Tensor amax = per_channel ? w.abs().amax(dims) : w.abs().max().reshape({1});
  scales = (amax / qmax).clamp_min(1e-12).to(at::kFloat);
  if (per_channel) shape[0] = w.size(0);
  return at::round(w / scales.to(at::kDouble).view(shape)).clamp(-qmax, qmax).to(at::kChar);
}

Int8Scheme resolve_scheme(const QuantizeOptions& options, const std::string& engine) {
  if (options.weight_bits < 2 || options.weight_bits > 8) {
    throw Error(fmt::format("weight bits must be 2..8, got {}", options.weight_bits));
  }
  Int8Scheme scheme{options.weight_bits, false};
  scheme.reduce_range =
      options.reduce_range.value_or(!scheme.fits_int16_pairs() && kernels_saturate_int16_pairs(engine));
  check_exact(scheme, engine, "the requested int8 scheme");
  return scheme;
}

QuantizedResNet8 quantize(const FoldedResNet8& model, const cifar10::Dataset& calibration,
                          const QuantizeOptions& options) {
  QuantizedResNet8 q;
  q.options = options;
  q.engine = options.engine.empty() ? default_engine() : options.engine;
  set_engine(q.engine);
  q.scheme = resolve_scheme(options, q.engine);
  if (calibration.size() == 0) throw Error("the calibration set is empty");
  {
    std::set<std::string> known = {"fc"};
    for (const FoldedConv* c : model.convs()) known.insert(c->name);
    for (const auto& l : options.float_layers) {
      if (!known.count(l)) {
        throw Error(fmt::format("unknown layer '{}' to keep in fp32; layers: {}", l, fmt::join(known, ", ")));
      }
    }
  }

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

  const int64_t qmax = q.scheme.activation_qmax();
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

  // The int8 module. Its state is three flat tensors (see Blobs); __setstate__ turns them into the
  // attributes forward() uses: packed weights, output scales and zero points.
  Blobs blobs;
  std::string setstate;
  auto qparams_code = [&](const std::string& attr, const QParams& p) {
    setstate += fmt::format("    self.{0}_scale = float(f[{1}])\n    self.{0}_zero_point = int(z[{2}])\n", attr,
                            blobs.add_real(p.scale), blobs.add_int(p.zero_point));
  };
  auto is_float = [&](const std::string& layer) { return options.float_layers.count(layer) > 0; };
  // conv == nullptr: the classifier (fc).
  auto add_layer = [&](const FoldedConv* conv, const QParams& out) {
    const std::string name = conv ? conv->name : "fc";
    const std::string a = attr_name(name);
    const at::Tensor float_weight = conv ? conv->original_weight() : model.fc_weight;
    const at::Tensor& bias = conv ? conv->bias : model.fc_bias;
    const std::string pad = conv && conv->padded_kernel
                                // The stride-2 conv's 'same' padding becomes a zero first row and column
                                // (a 4x4 kernel) here, at load time, so the zeros take no room in the file.
                                ? "    w = torch.constant_pad_nd(w, [1, 0, 1, 0], 0)\n"
                                : "";
    LayerQuant l;
    l.name = name;
    l.weight_shape = float_weight.sizes().vec();
    l.weight_min = float_weight.min().item<double>();
    l.weight_max = float_weight.max().item<double>();
    l.output = out;
    l.kept_float = is_float(name);
    if (l.kept_float) {  // mixed precision: this layer stays fp32 (float32 weights in `reals`)
      const int64_t wo = blobs.add_reals(float_weight), bo = blobs.add_reals(bias);
      setstate += fmt::format("    w = f[{}:{}].view([{}])\n{}    self.{}_weight = w\n    self.{}_bias = f[{}:{}]\n", wo,
                              wo + float_weight.numel(), fmt::join(float_weight.sizes(), ", "), pad, a, a, bo,
                              bo + bias.numel());
    } else {
      at::Tensor scales;
      const at::Tensor w8 = quantize_weight(float_weight, q.scheme.weight_bits, options.per_channel, scales);
      const int64_t wo = blobs.add_weights(w8), so = blobs.add_reals(scales), bo = blobs.add_reals(bias);
      setstate += fmt::format("    w = q[{}:{}].view([{}])\n{}", wo, wo + w8.numel(), fmt::join(w8.sizes(), ", "), pad);
      setstate += options.per_channel
                      ? fmt::format("    w = torch._make_per_channel_quantized_tensor(w, f[{}:{}].double(), "
                                    "torch.zeros([{}], dtype=torch.long), 0)\n",
                                    so, so + scales.numel(), scales.numel())
                      : fmt::format("    w = torch._make_per_tensor_quantized_tensor(w, float(f[{}]), 0)\n", so);
      const std::string b = fmt::format("f[{}:{}]", bo, bo + bias.numel());
      setstate += conv ? fmt::format("    self.{0}_packed = ops.quantized.conv2d_prepack(w, {1}, [{2}, {2}], [{3}, {3}], "
                                     "[1, 1], 1)\n", a, b, conv->stride, conv->padding)
                       : fmt::format("    self.fc_packed = ops.quantized.linear_prepack(w, {})\n", b);
      l.weight_scales.assign(scales.data_ptr<float>(), scales.data_ptr<float>() + scales.numel());
    }
    qparams_code(a, out);
    q.layers.push_back(l);
  };

  qparams_code("input", qparams.at("input"));
  for (const FoldedConv* c : model.convs()) add_layer(c, qparams.at(c->name == "stem.conv" ? "stem" : c->name));
  for (const auto& s : model.stacks) qparams_code(s.name + "_add", qparams.at(s.name + ".add"));
  add_layer(nullptr, qparams.at("fc"));

  const at::Tensor weights = at::tensor(c10::ArrayRef<int8_t>(blobs.weights), at::kChar);
  const at::Tensor reals = at::tensor(c10::ArrayRef<float>(blobs.reals), at::kFloat);
  const at::Tensor ints = at::tensor(c10::ArrayRef<int64_t>(blobs.ints), at::kLong);

  auto module = std::make_shared<torch::jit::Module>("__torch__.resnet8.QuantizedResNet8");
  module->register_attribute("training", c10::BoolType::get(), false);
  module->register_attribute("qweights", c10::TensorType::get(), weights);
  module->register_attribute("reals", c10::TensorType::get(), reals);
  module->register_attribute("ints", c10::TensorType::get(), ints);
  module->register_attribute("engine", c10::StringType::get(), q.engine);
  module->register_attribute("metadata", c10::StringType::get(), q.metadata_json());
  // Typed placeholders for what __setstate__ assigns.
  const at::Tensor dummy_q = at::quantize_per_tensor(at::zeros({1, 1, 1, 1}), 1.0, 0, at::kQInt8);
  const c10::IValue conv_type = call_op("quantized::conv2d_prepack",
                                        {dummy_q, c10::IValue(), c10::List<int64_t>({1, 1}), c10::List<int64_t>({0, 0}),
                                         c10::List<int64_t>({1, 1}), int64_t{1}});
  const c10::IValue linear_type = call_op("quantized::linear_prepack", {dummy_q.reshape({1, 1}), c10::IValue()});
  for (const auto& l : q.layers) {
    if (l.kept_float) {
      module->register_attribute(attr_name(l.name) + "_weight", c10::TensorType::get(), at::Tensor());
      module->register_attribute(attr_name(l.name) + "_bias", c10::TensorType::get(), at::Tensor());
      continue;
    }
    const c10::IValue& v = l.name == "fc" ? linear_type : conv_type;
    module->register_attribute(attr_name(l.name) + "_packed", v.type(), v);
  }
  for (const auto& name : [&] {
         std::vector<std::string> n = {"input"};
         for (const auto& l : q.layers) n.push_back(attr_name(l.name));
         for (const auto& s : model.stacks) n.push_back(s.name + "_add");
         return n;
       }()) {
    module->register_attribute(name + "_scale", c10::FloatType::get(), 1.0);
    module->register_attribute(name + "_zero_point", c10::IntType::get(), int64_t{0});
  }

  const std::string state_type = "Tuple[Tensor, Tensor, Tensor, str, str, bool]";
  std::string src = fmt::format(
      "def __getstate__(self) -> {0}:\n"
      "    return (self.qweights, self.reals, self.ints, self.engine, self.metadata, self.training)\n"
      "def __setstate__(self, state: {0}) -> None:\n"
      "    self.qweights = state[0]\n    self.reals = state[1]\n    self.ints = state[2]\n"
      "    self.engine = state[3]\n    self.metadata = state[4]\n    self.training = state[5]\n"
      "{1}    q = self.qweights\n    f = self.reals\n    z = self.ints\n{2}",
      state_type, q.scheme.fits_int16_pairs() ? "" : saturation_guard(q.scheme), setstate);

  // forward(), generated from the folded network's structure.
  auto conv = [&](const FoldedConv& c, const std::string& in) {
    const std::string a = attr_name(c.name);
    if (is_float(c.name)) {  // dequantize, float conv, quantize again for the int8 layers after it
      const std::string y = fmt::format("torch.conv2d({}.dequantize(), self.{}_weight, self.{}_bias, [{}, {}], [{}, {}])",
                                        in, a, a, c.stride, c.stride, c.padding, c.padding);
      return fmt::format("torch.quantize_per_tensor({}, self.{}_scale, self.{}_zero_point, torch.quint8)",
                         c.relu ? "torch.relu(" + y + ")" : y, a, a);
    }
    return fmt::format("ops.quantized.{}({}, self.{}_packed, self.{}_scale, self.{}_zero_point)",
                       c.relu ? "conv2d_relu" : "conv2d", in, a, a, a);
  };
  src +=
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
  src += "    h = torch.adaptive_avg_pool2d(h, [1, 1]).reshape([-1, 64])\n";
  src += is_float("fc") ? "    return torch.softmax(torch.linear(h.dequantize(), self.fc_weight, self.fc_bias), 1)\n"
                        : "    h = ops.quantized.linear(h, self.fc_packed, self.fc_scale, self.fc_zero_point)\n"
                          "    return torch.softmax(h.dequantize(), 1)\n";
  module->define(src, detail::quantized_ops_resolver());
  // Build the packed weights exactly as loading the saved file will.
  module->run_method("__setstate__",
                     c10::ivalue::Tuple::create({weights, reals, ints, q.engine, q.metadata_json(), false}));
  module->eval();
  q.module = module;
  return q;
}

std::string QuantizedResNet8::metadata_json() const {
  return fmt::format(
      "{{\"producer\": \"resnet8-ptq {}\", \"libtorch\": \"{}\", \"engine\": \"{}\", \"reduce_range\": {}, "
      "\"weight_bits\": {}, \"activation_bits\": {}, \"observer\": \"{}\", \"weights\": \"{}\", \"fp32_layers\": [{}], \"calibration\": {{\"split\": \"train\", "
      "\"per_class\": {}, \"seed\": {}}}}}",
      RESNET8_VERSION, TORCH_VERSION, engine, scheme.reduce_range, scheme.weight_bits, scheme.activation_bits(),
      observer_name(options.observer), options.per_channel ? "per_channel_symmetric_qint8" : "per_tensor_symmetric_qint8",
      options.float_layers.empty() ? "" : fmt::format("\"{}\"", fmt::join(options.float_layers, "\", \"")),
      options.calib_per_class,
      options.seed);
}

std::string QuantizedResNet8::report_json() const {
  std::vector<std::string> acts, lays;
  for (const auto& a : activations) {
    acts.push_back(fmt::format(
        "    {{\"point\": {}, \"observed\": [{:.6g}, {:.6g}], \"range\": [{:.6g}, {:.6g}], \"scale\": {:.9g}, "
        "\"zero_point\": {}}}",
        json_quote(a.point), a.observed_min, a.observed_max, a.range_min, a.range_max, a.qparams.scale,
        a.qparams.zero_point));
  }
  for (const auto& l : layers) {
    std::vector<std::string> scales;
    for (double s : l.weight_scales) scales.push_back(fmt::format("{:.9g}", s));
    lays.push_back(fmt::format(
        "    {{\"layer\": {}, \"weight_shape\": [{}], \"weight_range\": [{:.6g}, {:.6g}], \"weight_scales\": [{}], "
        "\"output_scale\": {:.9g}, \"output_zero_point\": {}}}",
        json_quote(l.name), fmt::join(l.weight_shape, ", "), l.weight_min, l.weight_max, fmt::join(scales, ", "),
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

namespace {

// The record extra/<name> of a TorchScript archive, or nothing when it has none.
std::optional<std::string> extra_record(const fs::path& file, const std::string& name) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(file.string());
  } catch (const c10::Error&) {
    throw Error(fmt::format("{}: not a TorchScript file (not a PyTorch zip archive)", file.string()));
  }
  const std::string record = "extra/" + name;
  if (!reader->hasRecord(record)) return std::nullopt;
  const auto [data, size] = reader->getRecord(record);
  return std::string(static_cast<const char*>(data.get()), size);
}

}  // namespace

std::string recorded_engine(const fs::path& file) { return extra_record(file, kEngineRecord).value_or(""); }

std::optional<Int8Scheme> recorded_scheme(const fs::path& file) {
  const auto text = extra_record(file, kMetadataRecord);
  if (!text) return std::nullopt;
  const auto metadata = nlohmann::json::parse(*text, nullptr, false);
  if (!metadata.is_object() || !metadata.value("reduce_range", nlohmann::json()).is_boolean()) {
    throw Error(fmt::format("{}: its {} record is not the metadata resnet8-ptq writes", file.string(), kMetadataRecord));
  }
  Int8Scheme scheme{8, metadata["reduce_range"].get<bool>()};  // files before weight_bits: 8-bit weights
  if (const auto bits = metadata.value("weight_bits", nlohmann::json()); bits.is_number_integer()) {
    scheme.weight_bits = bits.get<int>();
    if (scheme.weight_bits < 2 || scheme.weight_bits > 8) {
      throw Error(fmt::format("{}: records {}-bit weights; expected 2..8", file.string(), scheme.weight_bits));
    }
  }
  return scheme;
}

}  // namespace resnet8
