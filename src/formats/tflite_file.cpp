// TfliteModel <-> the .tflite flatbuffer, through the code flatc generates from tflite_schema.fbs.
#include <resnet8/formats/tflite_model.h>
#include <resnet8/support/error.h>
#include <resnet8/support/input_file.h>

#include "tflite_schema_generated.h"

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;
namespace fb = resnet8::tflite_schema;

namespace resnet8 {
namespace {

constexpr size_t kMaxFileBytes = 64000000;  // a ResNet8 .tflite is ~100 kB

struct OpCode {
  fb::BuiltinOperator code;
  int32_t version;  // as the MLPerf Tiny reference model declares them (TFLM ignores versions)
};

OpCode opcode_of(TfliteOp op) {
  switch (op) {
    case TfliteOp::kConv2d: return {fb::BuiltinOperator_CONV_2D, 3};
    case TfliteOp::kAdd: return {fb::BuiltinOperator_ADD, 2};
    case TfliteOp::kAveragePool2d: return {fb::BuiltinOperator_AVERAGE_POOL_2D, 2};
    case TfliteOp::kMean: return {fb::BuiltinOperator_MEAN, 2};
    case TfliteOp::kReshape: return {fb::BuiltinOperator_RESHAPE, 1};
    case TfliteOp::kFullyConnected: return {fb::BuiltinOperator_FULLY_CONNECTED, 4};
    case TfliteOp::kSoftmax: return {fb::BuiltinOperator_SOFTMAX, 2};
  }
  return {fb::BuiltinOperator_ADD, 1};
}

fb::TensorType type_of(TfliteType t) {
  switch (t) {
    case TfliteType::kFloat32: return fb::TensorType_FLOAT32;
    case TfliteType::kInt32: return fb::TensorType_INT32;
    case TfliteType::kInt8: return fb::TensorType_INT8;
    case TfliteType::kInt4: return fb::TensorType_INT4;
  }
  return fb::TensorType_INT8;
}

fb::ActivationFunctionType activation_of(TfliteActivation a) {
  switch (a) {
    case TfliteActivation::kRelu: return fb::ActivationFunctionType_RELU;
    case TfliteActivation::kRelu6: return fb::ActivationFunctionType_RELU6;
    case TfliteActivation::kNone: break;
  }
  return fb::ActivationFunctionType_NONE;
}

// The operator's builtin options table, and its union type.
std::pair<fb::BuiltinOptions, flatbuffers::Offset<void>> options_of(flatbuffers::FlatBufferBuilder& b,
                                                                    const TfliteOperator& o) {
  const auto pad = o.padding_same ? fb::Padding_SAME : fb::Padding_VALID;
  switch (o.op) {
    case TfliteOp::kConv2d:
      return {fb::BuiltinOptions_Conv2DOptions,
              fb::CreateConv2DOptions(b, pad, o.stride_w, o.stride_h, activation_of(o.activation)).Union()};
    case TfliteOp::kAveragePool2d:
      return {fb::BuiltinOptions_Pool2DOptions, fb::CreatePool2DOptions(b, pad, o.stride_w, o.stride_h, o.filter_w,
                                                                        o.filter_h, activation_of(o.activation))
                                                    .Union()};
    case TfliteOp::kAdd:
      return {fb::BuiltinOptions_AddOptions, fb::CreateAddOptions(b, activation_of(o.activation)).Union()};
    case TfliteOp::kFullyConnected:
      return {fb::BuiltinOptions_FullyConnectedOptions,
              fb::CreateFullyConnectedOptions(b, activation_of(o.activation)).Union()};
    case TfliteOp::kSoftmax: return {fb::BuiltinOptions_SoftmaxOptions, fb::CreateSoftmaxOptions(b, o.beta).Union()};
    case TfliteOp::kMean: return {fb::BuiltinOptions_ReducerOptions, fb::CreateReducerOptions(b, o.keep_dims).Union()};
    case TfliteOp::kReshape: break;  // the new shape is the second input, as converters write it
  }
  return {fb::BuiltinOptions_NONE, 0};
}

flatbuffers::Offset<fb::Tensor> tensor_of(flatbuffers::FlatBufferBuilder& b, const TfliteTensor& t, uint32_t buffer) {
  flatbuffers::Offset<fb::QuantizationParameters> q = 0;
  if (!t.scales.empty()) {
    q = fb::CreateQuantizationParameters(b, 0, 0, b.CreateVector(t.scales), b.CreateVector(t.zero_points),
                                         t.quantized_dimension);
  }
  return fb::CreateTensor(b, b.CreateVector(t.shape), type_of(t.type), buffer, b.CreateString(t.name), q);
}

}  // namespace

std::string tflite_bytes(const TfliteModel& model) {
  flatbuffers::FlatBufferBuilder b(1 << 17);
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers = {fb::CreateBuffer(b)};  // 0: the empty sentinel
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (const TfliteTensor& t : model.tensors) {
    uint32_t buffer = 0;
    if (t.is_constant()) {
      b.ForceVectorAlignment(t.data.size(), 1, 16);
      buffers.push_back(fb::CreateBuffer(b, b.CreateVector(t.data)));
      buffer = static_cast<uint32_t>(buffers.size() - 1);
    }
    tensors.push_back(tensor_of(b, t, buffer));
  }
  std::map<TfliteOp, uint32_t> code_index;
  std::vector<flatbuffers::Offset<fb::OperatorCode>> codes;
  std::vector<flatbuffers::Offset<fb::Operator>> ops;
  for (const TfliteOperator& o : model.operators) {
    if (!code_index.count(o.op)) {
      const OpCode c = opcode_of(o.op);
      code_index[o.op] = static_cast<uint32_t>(codes.size());
      codes.push_back(fb::CreateOperatorCode(b, static_cast<int8_t>(c.code), 0, c.version, c.code));
    }
    const auto [type, options] = options_of(b, o);
    ops.push_back(
        fb::CreateOperator(b, code_index[o.op], b.CreateVector(o.inputs), b.CreateVector(o.outputs), type, options));
  }
  const auto subgraph = fb::CreateSubGraph(
      b, b.CreateVector(tensors), b.CreateVector(std::vector<int32_t>{model.input}),
      b.CreateVector(std::vector<int32_t>{model.output}), b.CreateVector(ops), b.CreateString("main"));
  const auto root = fb::CreateModel(b, 3, b.CreateVector(codes), b.CreateVector(std::vector{subgraph}),
                                    b.CreateString(model.description), b.CreateVector(buffers));
  fb::FinishModelBuffer(b, root);
  flatbuffers::Verifier verifier(b.GetBufferPointer(), b.GetSize());
  if (!fb::VerifyModelBuffer(verifier)) throw Error("TFLite export: the FlatBuffers verifier rejected the model");
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

bool looks_like_tflite(const fs::path& file) {
  if (file.extension() == ".tflite") return true;  // read_tflite() then says what is wrong with a bad one
  std::ifstream in(file, std::ios::binary);
  char head[8] = {};
  return in.read(head, 8) && std::string(head + 4, 4) == fb::ModelIdentifier();
}

TfliteModel read_tflite(const fs::path& file) {
  const auto bytes = input_file_size(file, "model file");
  if (bytes > kMaxFileBytes) {
    throw Error(fmt::format("{}: {} bytes; a ResNet8 .tflite has ~100 kB (limit {} MB)", file.string(), bytes,
                            kMaxFileBytes / 1000000));
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  if (!in && !in.eof()) throw Error(fmt::format("{}: cannot read", file.string()));
  return parse_tflite(s.str(), file.string());
}

}  // namespace resnet8
