#pragma once
// Cross-layer equalization (Nagel et al., "Data-Free Quantization", 2019) of the folded network:
// within each residual stack, conv1 -> ReLU -> conv2. ReLU(x / s) = ReLU(x) / s for s > 0, so output
// channel i of conv1 (weights and bias) can be divided by s_i and input channel i of conv2 multiplied
// by s_i without changing the network's function. With s_i = sqrt(r1_i / r2_i), where r1_i = max|W1[i]|
// and r2_i = max|W2[:, i]|, both ranges become sqrt(r1_i * r2_i): the channels of conv2's weights, which
// share one scale per output channel, no longer span very different ranges.
//
// The rescalable pairs are found in the graph: a conv with a ReLU whose only reader is another conv. In
// ResNet8 those are each residual stack's conv1 -> conv2; every other layer output also feeds a residual
// add. Equalize before calibrating, since conv1's output ranges change.
#include <resnet8/model/folded.h>

#include <string>
#include <utility>
#include <vector>

namespace resnet8 {

struct EqualizedPair {
  std::string first, second;  // "stackN.conv1", "stackN.conv2"
  std::vector<float> scales;  // s_i per channel between them
};

// The (first, second) conv pairs equalize() rescales, in graph order.
std::vector<std::pair<std::string, std::string>> equalizable_pairs(const Graph& graph);

// `model` with every such pair equalized; the pairs' scales go to `pairs` when given.
FoldedResNet8 equalize(const FoldedResNet8& model, std::vector<EqualizedPair>* pairs = nullptr);

// max over channels / min over channels of the per-channel weight range: of output channels
// (dim 0) or of input channels (dim 1). 1 when every channel has the same range.
double channel_range_spread(const at::Tensor& weight, int64_t dim);

}  // namespace resnet8
