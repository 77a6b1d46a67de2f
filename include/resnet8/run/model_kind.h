#pragma once
// What runs a model: the one list the classifiers, the reports and their JSON share.
namespace resnet8 {

enum class ModelKind {
  kTorchScript,  // a TorchScript file's own forward (fp32 or int8)
  kNative,       // C++ over the file's weights read as data: FoldedResNet8 (fp32) or Int8ResNet8 (int8)
  kModule,       // the unfolded resnet8::ResNet8 torch::nn::Module (fp32)
  kTflite,       // a .tflite on the integer program (TFLM's arithmetic)
  kSimulated,    // a plan's fake-quantized float network (resnet8-analyze)
};

// "torchscript", "native", "module", "tflite", "simulated": the reports' and JSON's spelling.
const char* model_kind_name(ModelKind kind);

}  // namespace resnet8
