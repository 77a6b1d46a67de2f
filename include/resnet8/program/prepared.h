#pragma once
// A TFLite model's operators as TensorFlow Lite Micro's Prepare leaves them: every parameter its reference
// kernels compute with, derived from the file exactly as TFLM derives it (program/prepare.h), and nothing
// that depends on the kernels that will run them: no weight layout, bias folding or scratch (those are the
// packing's, per kernel family: program/program.h). Plain data.
#include <resnet8/formats/tflite_model.h>
#include <resnet8/micro/r8_kernels.h>

#include <cstdint>
#include <vector>

namespace resnet8 {

// A CONV_2D filter or FULLY_CONNECTED weight matrix: `rows` output channels of `per_row` weights each, in
// TFLite's order (OHWI, or [out][in]), one int8 a weight whatever the file stores.
struct PreparedWeights {
  int32_t rows = 0, per_row = 0;
  bool int4 = false;  // stored as INT4 (two a byte) in the file
  std::vector<int8_t> values;
  int32_t at(int32_t row, int32_t i) const { return values[static_cast<size_t>(row) * per_row + i]; }
};

// CONV_2D: TFLM's ConvParams and per-channel quantization (PopulateConvolutionQuantizationParams).
struct PreparedConv {
  r8_shape input{}, output{};
  int32_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
  int32_t input_offset = 0, output_offset = 0, act_min = -128, act_max = 127;
  PreparedWeights filter;
  std::vector<int32_t> bias, multiplier, shift;  // per output channel; bias as the file holds it
};

// FULLY_CONNECTED: TFLM's FullyConnectedParams, per tensor or per channel.
struct PreparedFullyConnected {
  int32_t input_depth = 0, output_depth = 0, input_offset = 0, output_offset = 0, act_min = -128, act_max = 127;
  PreparedWeights weights;
  std::vector<int32_t> bias;               // per output, as the file holds it
  std::vector<int32_t> multiplier, shift;  // per output, or one
  bool per_channel = false;
};

// One operator. The operators without constant arrays keep their parameters in the kernels' own structs,
// whose fields are TFLM's.
struct PreparedOp {
  TfliteOp op = TfliteOp::kConv2d;
  int32_t input = -1, input2 = -1, output = -1;  // activation tensors (model indices); input2 for ADD
  PreparedConv conv;
  PreparedFullyConnected fully_connected;
  r8_add_params add{};
  r8_avgpool_params avgpool{};
  r8_mean_params mean{};
  r8_softmax_params softmax{};
  int64_t multiply_accumulates() const;  // per image: a convolution's or a fully connected layer's, else 0
};

struct PreparedModel {
  TfliteModel model;
  std::vector<PreparedOp> ops;  // the model's operators, in order
  std::vector<int64_t> bytes;   // per model tensor: its int8 activation bytes (0 for constants)
  int32_t input = 0, output = 0;
  float input_scale = 1, output_scale = 1;
  int32_t input_zero_point = 0, output_zero_point = 0;

  int64_t multiply_accumulates() const;  // per image, convolutions and fully connected
};

}  // namespace resnet8
