#pragma once
// ResNet8 with batch norm folded into the convolutions: the form that quantization (and fast fp32
// inference) works on. Its structure is the architecture's graph (architecture.h); forward() walks it.
// Every stride-2 3x3 convolution also has TensorFlow's asymmetric 'same' padding folded into its
// kernel: a 3x3 stride-2 conv padded (0 before, 1 after) equals a 4x4 stride-2 conv with symmetric
// padding 1 whose first kernel row and column are zero, so no convolution needs a separate pad op.
#include <resnet8/model/graph.h>

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

namespace resnet8 {

class ResNet8;

struct FoldedConv {
  std::string name;   // the graph node, e.g. "stack2.conv1"
  at::Tensor weight;  // [out, in, k, k], batch norm folded in
  at::Tensor bias;    // [out]
  int64_t stride = 1;
  int64_t padding = 0;         // symmetric
  bool relu = false;           // followed by a ReLU (fused in int8)
  bool padded_kernel = false;  // 4x4 kernel whose first row and column are the folded 'same' padding

  at::Tensor original_weight() const;  // the weight without the folded padding (3x3 again)
};

struct FoldedResNet8 {
  Graph graph;                    // the network's structure (resnet8_graph())
  std::vector<FoldedConv> convs;  // one per conv node, in graph order
  at::Tensor fc_weight;           // the linear node's [10, 64]
  at::Tensor fc_bias;             // [10]

  const FoldedConv& conv(const std::string& name) const;  // throws resnet8::Error for an unknown conv
  FoldedConv& conv(const std::string& name);

  // Called with every activation int8 inference quantizes, by graph node name: "input", each conv and
  // add (after its ReLU), the pool's averaged features, the linear layer's logits.
  using Observe = std::function<void(const std::string& point, const at::Tensor& value)>;

  // Replaces an activation on its way (fake quantization); called after `observe`.
  using Transform = std::function<at::Tensor(const std::string& point, const at::Tensor& value)>;

  // x: float32 NHWC [N, 32, 32, 3], 0..255 -> softmax probabilities [N, 10].
  at::Tensor forward(const at::Tensor& x, const Observe& observe = nullptr, const Transform& transform = nullptr) const;
};

// Folds model (eval-mode batch norm statistics) into a FoldedResNet8; the model is not changed.
FoldedResNet8 fold(const ResNet8& model);

}  // namespace resnet8
