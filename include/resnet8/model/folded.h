#pragma once
// ResNet8 with batch norm folded into the convolutions: the form that quantization (and fast fp32
// inference) works on. Every stride-2 3x3 convolution also has TensorFlow's asymmetric 'same'
// padding folded into its kernel: a 3x3 stride-2 conv padded (0 before, 1 after) equals a 4x4
// stride-2 conv with symmetric padding 1 whose first kernel row and column are zero, so no
// convolution needs a separate pad op.
#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

namespace resnet8 {

class ResNet8;

struct FoldedConv {
  std::string name;  // module path in ResNet8, e.g. "stack2.conv1"
  at::Tensor weight;  // [out, in, k, k], batch norm folded in
  at::Tensor bias;    // [out]
  int64_t stride = 1;
  int64_t padding = 0;  // symmetric
  bool relu = false;    // followed by a ReLU (fused in int8)
  bool padded_kernel = false;  // 4x4 kernel whose first row and column are the folded 'same' padding

  at::Tensor original_weight() const;  // the weight without the folded padding (3x3 again)
};

struct FoldedStack {
  std::string name;  // "stack1".."stack3"
  FoldedConv conv1, conv2;
  bool has_shortcut = false;
  FoldedConv shortcut;  // 1x1 stride-2 projection when has_shortcut
};

struct FoldedResNet8 {
  FoldedConv stem;
  std::vector<FoldedStack> stacks;
  at::Tensor fc_weight;  // [10, 64]
  at::Tensor fc_bias;    // [10]

  // Called with every activation int8 inference quantizes, by point name: "input", "stem.conv",
  // "stackN.conv1", "stackN.conv2", "stackN.shortcut", "stackN.add" (after its ReLU), "fc" (logits).
  using Observe = std::function<void(const std::string& point, const at::Tensor& value)>;

  // Replaces an activation on its way (fake quantization); called after `observe`. It is also called
  // with "pool", the averaged features the classifier reads, which `observe` does not see: int8
  // inference rounds them to the grid of the last residual add, whose parameters they keep.
  using Transform = std::function<at::Tensor(const std::string& point, const at::Tensor& value)>;

  // x: float32 NHWC [N, 32, 32, 3], 0..255 -> softmax probabilities [N, 10].
  at::Tensor forward(const at::Tensor& x, const Observe& observe = nullptr, const Transform& transform = nullptr) const;

  std::vector<const FoldedConv*> convs() const;  // in execution order
};

// Folds model (eval-mode batch norm statistics) into a FoldedResNet8; the model is not changed.
FoldedResNet8 fold(const ResNet8& model);

}  // namespace resnet8
