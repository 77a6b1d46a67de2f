#include <resnet8/formats/tflite_model.h>

namespace resnet8 {

const char* tflite_op_name(TfliteOp op) {
  switch (op) {
    case TfliteOp::kConv2d: return "CONV_2D";
    case TfliteOp::kAdd: return "ADD";
    case TfliteOp::kAveragePool2d: return "AVERAGE_POOL_2D";
    case TfliteOp::kMean: return "MEAN";
    case TfliteOp::kReshape: return "RESHAPE";
    case TfliteOp::kFullyConnected: return "FULLY_CONNECTED";
    case TfliteOp::kSoftmax: return "SOFTMAX";
  }
  return "?";
}

int64_t TfliteTensor::elements() const {
  int64_t n = 1;
  for (const int32_t d : shape) n *= d;
  return n;
}

}  // namespace resnet8
