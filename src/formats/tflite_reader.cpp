// A .tflite flatbuffer read into a TfliteModel: verified, then every field checked (tflite_model.h).
#include <resnet8/formats/tflite_model.h>
#include <resnet8/support/error.h>

#include "tflite_schema_generated.h"

#include <fmt/format.h>

#include <set>

namespace fb = resnet8::tflite_schema;

namespace resnet8 {
namespace {

// Far above a ResNet8 (38 tensors, 16 operators), far below what could exhaust memory or time.
constexpr size_t kMaxTensors = 1024, kMaxOperators = 256, kMaxRank = 4;
constexpr int64_t kMaxElements = int64_t{1} << 24;

class Reader {
 public:
  Reader(const std::string& bytes, std::string what) : bytes_(bytes), what_(std::move(what)) {}
  TfliteModel read();

 private:
  Error bad(const std::string& why) const { return Error(fmt::format("{}: {}", what_, why)); }
  TfliteTensor tensor(const fb::Model& m, const fb::Tensor& t, size_t index) const;
  TfliteOperator op(const fb::Model& m, const fb::Operator& o, size_t index) const;
  void options(const fb::Operator& o, TfliteOperator& out) const;

  const std::string& bytes_;
  std::string what_;
};

int64_t element_bytes(TfliteType t, int64_t n) {
  switch (t) {
    case TfliteType::kFloat32:
    case TfliteType::kInt32: return 4 * n;
    case TfliteType::kInt8: return n;
    case TfliteType::kInt4: return (n + 1) / 2;
  }
  return n;
}

TfliteTensor Reader::tensor(const fb::Model& m, const fb::Tensor& t, size_t index) const {
  TfliteTensor out;
  out.name = t.name() ? t.name()->str() : fmt::format("tensor {}", index);
  switch (t.type()) {
    case fb::TensorType_FLOAT32: out.type = TfliteType::kFloat32; break;
    case fb::TensorType_INT32: out.type = TfliteType::kInt32; break;
    case fb::TensorType_INT8: out.type = TfliteType::kInt8; break;
    case fb::TensorType_INT4: out.type = TfliteType::kInt4; break;
    default:
      throw bad(fmt::format("tensor {} ('{}') has type {}; the int8 kernels take INT8, INT4, INT32", index, out.name,
                            static_cast<int>(t.type())));
  }
  if (!t.shape() || t.shape()->size() > kMaxRank)
    throw bad(fmt::format("tensor {} ('{}'): no shape, or over {} dimensions", index, out.name, kMaxRank));
  out.shape.assign(t.shape()->begin(), t.shape()->end());
  int64_t n = 1;
  for (const int32_t d : out.shape) {
    if (d < 1 || d > kMaxElements || (n *= d) > kMaxElements)
      throw bad(fmt::format("tensor {} ('{}') has a bad shape", index, out.name));
  }
  if (const auto* q = t.quantization()) {
    if (q->scale()) out.scales.assign(q->scale()->begin(), q->scale()->end());
    if (q->zero_point()) out.zero_points.assign(q->zero_point()->begin(), q->zero_point()->end());
    out.quantized_dimension = q->quantized_dimension();
  }
  const auto* buffers = m.buffers();
  if (t.buffer() != 0) {
    if (!buffers || t.buffer() >= buffers->size())
      throw bad(fmt::format("tensor {} ('{}') refers to buffer {}, which does not exist", index, out.name, t.buffer()));
    const auto* b = buffers->Get(t.buffer());
    if (b->offset() > 1 || b->size() > 0)
      throw bad(fmt::format("tensor {} ('{}') keeps its data outside the flatbuffer", index, out.name));
    if (b->data() && b->data()->size() > 0) {
      if (static_cast<int64_t>(b->data()->size()) != element_bytes(out.type, n)) {
        throw bad(fmt::format("tensor {} ('{}'): its buffer holds {} bytes; its shape needs {}", index, out.name,
                              b->data()->size(), element_bytes(out.type, n)));
      }
      out.data.assign(b->data()->begin(), b->data()->end());
    }
  }
  return out;
}

// The builtin options each operator needs: TFLM runs an operator whose options are missing with zeroed ones
// (stride 0, no padding), so such a file has no meaning to match; RESHAPE's are optional (its shape is its
// output's).
fb::BuiltinOptions required_options(TfliteOp op) {
  switch (op) {
    case TfliteOp::kConv2d: return fb::BuiltinOptions_Conv2DOptions;
    case TfliteOp::kAdd: return fb::BuiltinOptions_AddOptions;
    case TfliteOp::kAveragePool2d: return fb::BuiltinOptions_Pool2DOptions;
    case TfliteOp::kMean: return fb::BuiltinOptions_ReducerOptions;
    case TfliteOp::kReshape: return fb::BuiltinOptions_ReshapeOptions;
    case TfliteOp::kFullyConnected: return fb::BuiltinOptions_FullyConnectedOptions;
    case TfliteOp::kSoftmax: return fb::BuiltinOptions_SoftmaxOptions;
  }
  return fb::BuiltinOptions_NONE;
}

void Reader::options(const fb::Operator& o, TfliteOperator& out) const {
  const fb::BuiltinOptions want = required_options(out.op);
  const bool optional = out.op == TfliteOp::kReshape && o.builtin_options_type() == fb::BuiltinOptions_NONE;
  if (!optional && (o.builtin_options_type() != want || !o.builtin_options())) {
    throw bad(fmt::format("a {} operator has {}; expected its {}", tflite_op_name(out.op),
                          o.builtin_options_type() == fb::BuiltinOptions_NONE || !o.builtin_options()
                              ? std::string("no options")
                              : fmt::format("options of type {}", fb::EnumNameBuiltinOptions(o.builtin_options_type())),
                          fb::EnumNameBuiltinOptions(want)));
  }
  auto act = [&](fb::ActivationFunctionType a) {
    if (a == fb::ActivationFunctionType_NONE) return TfliteActivation::kNone;
    if (a == fb::ActivationFunctionType_RELU) return TfliteActivation::kRelu;
    if (a == fb::ActivationFunctionType_RELU6) return TfliteActivation::kRelu6;
    throw bad(fmt::format("a {} operator has fused activation {}; the kernels implement NONE, RELU, RELU6",
                          tflite_op_name(out.op), static_cast<int>(a)));
  };
  auto padding = [&](fb::Padding p) {
    if (p != fb::Padding_SAME && p != fb::Padding_VALID)
      throw bad(fmt::format("a {} operator has padding {}; expected SAME or VALID", tflite_op_name(out.op), int{p}));
    return p == fb::Padding_SAME;
  };
  if (const auto* c = o.builtin_options_as_Conv2DOptions()) {
    if (c->dilation_h_factor() != 1 || c->dilation_w_factor() != 1)
      throw bad("a CONV_2D operator is dilated; the kernels implement dilation 1");
    out.padding_same = padding(c->padding());
    out.stride_h = c->stride_h();
    out.stride_w = c->stride_w();
    out.activation = act(c->fused_activation_function());
  } else if (const auto* p = o.builtin_options_as_Pool2DOptions()) {
    out.padding_same = padding(p->padding());
    out.stride_h = p->stride_h();
    out.stride_w = p->stride_w();
    out.filter_h = p->filter_height();
    out.filter_w = p->filter_width();
    out.activation = act(p->fused_activation_function());
  } else if (const auto* a = o.builtin_options_as_AddOptions()) {
    out.activation = act(a->fused_activation_function());
  } else if (const auto* f = o.builtin_options_as_FullyConnectedOptions()) {
    if (f->weights_format() != fb::FullyConnectedOptionsWeightsFormat_DEFAULT || f->keep_num_dims()) {
      throw bad("a FULLY_CONNECTED operator has shuffled weights or keeps its dimensions; not implemented");
    }
    out.activation = act(f->fused_activation_function());
  } else if (const auto* s = o.builtin_options_as_SoftmaxOptions()) {
    out.beta = s->beta();
  } else if (const auto* r = o.builtin_options_as_ReducerOptions()) {
    out.keep_dims = r->keep_dims();
  }
  if (out.stride_h < 1 || out.stride_w < 1 || out.filter_h < 1 || out.filter_w < 1 || out.stride_h > 64 ||
      out.stride_w > 64 || out.filter_h > 4096 || out.filter_w > 4096) {
    throw bad(fmt::format("a {} operator has a stride or window outside 1..64 / 1..4096", tflite_op_name(out.op)));
  }
}

TfliteOperator Reader::op(const fb::Model& m, const fb::Operator& o, size_t index) const {
  const auto* codes = m.operator_codes();
  if (!codes || o.opcode_index() >= codes->size()) throw bad(fmt::format("operator {} has no operator code", index));
  const auto* code = codes->Get(o.opcode_index());
  // builtin_code, or the deprecated byte in files written before it existed
  const int32_t builtin = std::max<int32_t>(code->builtin_code(), code->deprecated_builtin_code());
  TfliteOperator out;
  switch (builtin) {
    case fb::BuiltinOperator_CONV_2D: out.op = TfliteOp::kConv2d; break;
    case fb::BuiltinOperator_ADD: out.op = TfliteOp::kAdd; break;
    case fb::BuiltinOperator_AVERAGE_POOL_2D: out.op = TfliteOp::kAveragePool2d; break;
    case fb::BuiltinOperator_MEAN: out.op = TfliteOp::kMean; break;
    case fb::BuiltinOperator_RESHAPE: out.op = TfliteOp::kReshape; break;
    case fb::BuiltinOperator_FULLY_CONNECTED: out.op = TfliteOp::kFullyConnected; break;
    case fb::BuiltinOperator_SOFTMAX: out.op = TfliteOp::kSoftmax; break;
    default:
      throw bad(
          fmt::format("operator {} is builtin operator {}{}; the kernels implement CONV_2D, ADD, "
                      "AVERAGE_POOL_2D, MEAN, RESHAPE, FULLY_CONNECTED, SOFTMAX",
                      index, builtin, code->custom_code() ? " (custom)" : ""));
  }
  if (!o.inputs() || !o.outputs() || o.outputs()->size() != 1 || o.inputs()->size() > 4) {
    throw bad(fmt::format("operator {} ({}) has {} inputs and {} outputs", index, tflite_op_name(out.op),
                          o.inputs() ? o.inputs()->size() : 0, o.outputs() ? o.outputs()->size() : 0));
  }
  out.inputs.assign(o.inputs()->begin(), o.inputs()->end());
  out.outputs.assign(o.outputs()->begin(), o.outputs()->end());
  options(o, out);
  return out;
}

TfliteModel Reader::read() {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes_.data());
  if (bytes_.size() < 8 || !fb::ModelBufferHasIdentifier(data)) throw bad("not a TFLite model (no TFL3 identifier)");
  flatbuffers::Verifier verifier(data, bytes_.size(), /*max_depth=*/64, /*max_tables=*/100000);
  if (!fb::VerifyModelBuffer(verifier)) {
    throw bad("not a valid TFLite flatbuffer (the FlatBuffers verifier rejected its offsets, sizes or nesting)");
  }
  const fb::Model& m = *fb::GetModel(data);
  if (!m.subgraphs() || m.subgraphs()->size() != 1) throw bad("a ResNet8 .tflite has exactly one subgraph");
  const fb::SubGraph& g = *m.subgraphs()->Get(0);
  if (!g.tensors() || g.tensors()->size() > kMaxTensors || !g.operators() || g.operators()->size() > kMaxOperators) {
    throw bad(fmt::format("no tensors or operators, or more than {} / {}", kMaxTensors, kMaxOperators));
  }
  if (!g.inputs() || g.inputs()->size() != 1 || !g.outputs() || g.outputs()->size() != 1) {
    throw bad("a ResNet8 .tflite has one input and one output");
  }
  TfliteModel model;
  model.description = m.description() ? m.description()->str() : "";
  for (size_t i = 0; i < g.tensors()->size(); ++i) model.tensors.push_back(tensor(m, *g.tensors()->Get(i), i));
  for (size_t i = 0; i < g.operators()->size(); ++i) model.operators.push_back(op(m, *g.operators()->Get(i), i));
  model.input = g.inputs()->Get(0);
  model.output = g.outputs()->Get(0);
  return model;
}

// The graph: indices in range; every operator reads constants, the input, or what an earlier operator
// wrote; every tensor written once (no cycles, no overwrites); the output written.
void check_graph(const TfliteModel& m, const std::string& what) {
  const auto count = static_cast<int32_t>(m.tensors.size());
  auto bad = [&](const std::string& why) { return Error(fmt::format("{}: {}", what, why)); };
  if (m.input < 0 || m.input >= count || m.output < 0 || m.output >= count)
    throw bad("input or output tensor out of range");
  std::set<int32_t> ready = {m.input};
  for (size_t i = 0; i < m.operators.size(); ++i) {
    const TfliteOperator& o = m.operators[i];
    for (const int32_t t : o.inputs) {
      if (t < 0 || t >= count) throw bad(fmt::format("operator {} reads tensor {}, which does not exist", i, t));
      if (!m.tensors[t].is_constant() && !ready.count(t)) {
        throw bad(
            fmt::format("operator {} ({}) reads tensor {} before any operator writes it (a cycle, or operators "
                        "out of order)",
                        i, tflite_op_name(o.op), t));
      }
    }
    const int32_t out = o.outputs[0];
    if (out < 0 || out >= count || m.tensors[out].is_constant() || !ready.insert(out).second) {
      throw bad(fmt::format("operator {} ({}) writes tensor {}, which is a constant, written before, or missing", i,
                            tflite_op_name(o.op), out));
    }
  }
  if (!ready.count(m.output)) throw bad("no operator writes the output tensor");
}

}  // namespace

TfliteModel parse_tflite(const std::string& bytes, const std::string& what) {
  TfliteModel model = Reader(bytes, what).read();
  check_graph(model, what);
  return model;
}

}  // namespace resnet8
