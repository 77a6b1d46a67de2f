#include <resnet8/run/model_kind.h>

namespace resnet8 {

const char* model_kind_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::kTorchScript: return "torchscript";
    case ModelKind::kNative: return "native";
    case ModelKind::kModule: return "module";
    case ModelKind::kTflite: return "tflite";
    case ModelKind::kSimulated: return "simulated";
  }
  return "?";
}

}  // namespace resnet8
