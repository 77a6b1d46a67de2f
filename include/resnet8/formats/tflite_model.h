#pragma once
// A TensorFlow Lite model as plain data: the subgraph's tensors (shape, type, quantization, constant
// bytes) and operators in order. Three stages meet here:
//   tflite_model()      a quantization plan -> TfliteModel, following the TFLite int8 specification
//   read_tflite()       a .tflite file -> TfliteModel, verified (FlatBuffers verifier) and checked
//   tflite_bytes()      TfliteModel -> the .tflite flatbuffer, verified before it is returned
// and the integer program (program/program.h) is prepared from it, for the host evaluator and for the
// generated C code alike. Only the operators and types a ResNet8 needs are represented; anything else in
// a file is refused with one line naming what was found. No LibTorch types.
#include <resnet8/quant/quant_plan.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace resnet8 {

enum class TfliteType { kFloat32, kInt32, kInt8, kInt4 };
enum class TfliteOp { kConv2d, kAdd, kAveragePool2d, kMean, kReshape, kFullyConnected, kSoftmax };
enum class TfliteActivation { kNone, kRelu, kRelu6 };

const char* tflite_op_name(TfliteOp op);  // "CONV_2D", ...

struct TfliteTensor {
  std::string name;
  TfliteType type = TfliteType::kInt8;
  std::vector<int32_t> shape;
  std::vector<float> scales;  // one, or one per channel of quantized_dimension; empty: not quantized
  std::vector<int64_t> zero_points;
  int32_t quantized_dimension = 0;
  std::vector<uint8_t> data;  // constant bytes (little endian; INT4 two per byte); empty: an activation

  int64_t elements() const;
  bool is_constant() const { return !data.empty(); }
};

struct TfliteOperator {
  TfliteOp op = TfliteOp::kConv2d;
  std::vector<int32_t> inputs, outputs;  // tensor indices
  // CONV_2D, AVERAGE_POOL_2D: TFLite padding SAME (true) or VALID; strides; pool window.
  bool padding_same = true;
  int32_t stride_h = 1, stride_w = 1, filter_h = 1, filter_w = 1;
  TfliteActivation activation = TfliteActivation::kNone;  // fused (CONV_2D, ADD, FULLY_CONNECTED, pool)
  bool keep_dims = false;                                 // MEAN
  float beta = 1.0f;                                      // SOFTMAX
};

struct TfliteModel {
  std::string description;
  std::vector<TfliteTensor> tensors;
  std::vector<TfliteOperator> operators;  // in execution order
  int32_t input = 0, output = 0;          // the subgraph's one input and one output tensor
};

// Which bit-widths tflite_model() stores how: weights of 2..4 bits as INT4 (two per byte) where TFLM's
// kernel accepts it, 5..8 bits as INT8 holding the plan's integers.
struct TfliteWriteOptions {
  bool int4 = true;  // 2..4-bit conv weights as INT4; FULLY_CONNECTED per-channel weights stay INT8 (TFLM has no
                     // per-channel INT4 fully connected kernel)
};

// The plan as a TFLite int8 model with the MLPerf Tiny reference model's interface: input int8
// [1, 32, 32, 3] at scale 1, zero point -128 (pixel - 128); output int8 softmax [1, 10] at scale 1/256,
// zero point -128. Activations are the plan's uint8 parameters as int8 (zero point - 128); weights
// symmetric per channel; biases int32 at input scale x weight scale. The pool is MEAN with its own
// output scale (AVERAGE_POOL_2D + RESHAPE where the plan keeps the input's). Throws OptionError for a
// plan TFLite cannot hold (layers kept in fp32, activations below 7 bits).
TfliteModel tflite_model(const QuantPlan& plan, const std::string& description, const TfliteWriteOptions& options = {});

// The flatbuffer of `model`, checked with the FlatBuffers verifier. Throws resnet8::Error.
std::string tflite_bytes(const TfliteModel& model);

// A .tflite file read and checked: the FlatBuffers verifier first (offsets, sizes, nesting), then every
// operator, type, shape, buffer size and quantization against what the integer kernels implement, and the
// graph (each tensor written once, before it is read). Throws resnet8::Error naming `file` and the first
// problem found.
TfliteModel read_tflite(const std::filesystem::path& file);
TfliteModel parse_tflite(const std::string& bytes, const std::string& what);  // the same from memory

// Whether `file` is meant as a TFLite model: named *.tflite, or starting like a TFLite flatbuffer (its file
// identifier "TFL3").
bool looks_like_tflite(const std::filesystem::path& file);

}  // namespace resnet8
