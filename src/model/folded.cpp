#include <resnet8/model/folded.h>

#include <resnet8/model/model.h>

#include <torch/torch.h>

namespace resnet8 {
namespace {

FoldedConv fold_conv(const std::string& name, const SameConv2d& conv, const torch::nn::BatchNorm2d& bn,
                     int64_t stride, bool relu) {
  torch::NoGradGuard no_grad;
  FoldedConv out;
  out.name = name;
  out.stride = stride;
  out.relu = relu;
  at::Tensor weight = conv->weight.detach().clone();
  at::Tensor bias = conv->bias.detach().clone();
  if (bn) {
    const at::Tensor scale = bn->weight / torch::sqrt(bn->running_var + bn->options.eps());
    weight = weight * scale.view({-1, 1, 1, 1});
    bias = (bias - bn->running_mean) * scale + bn->bias;
  }
  const int64_t k = weight.size(2);
  const auto [before, after] = same_padding(32, k, stride);  // same rule at every even size here
  if (before == after) {
    out.padding = before;
  } else {
    TORCH_CHECK(before == 0 && after == 1, "unexpected 'same' padding for ", name);
    weight = torch::constant_pad_nd(weight, {1, 0, 1, 0});  // zero first row and column: 4x4 kernel
    out.padding = 1;
    out.padded_kernel = true;
  }
  // Channels-last weights match the channels-last activations: no per-call reorder in oneDNN.
  out.weight = weight.contiguous(at::MemoryFormat::ChannelsLast);
  out.bias = bias.contiguous();
  return out;
}

// oneDNN directly where the build has it: at::conv2d picks the im2col + GEMM path for most of these
// layers at small batch sizes, slower from batch 2 up. At batch 1 that im2col + GEMM path is the faster
// one, for every layer (at::mkldnn_convolution prepares its oneDNN primitive on every call, which costs as
// much as the convolution itself there): measured on an AVX2 CPU, p50 per image 0.67-0.73 ms with oneDNN,
// 0.55-0.62 ms with at::conv2d (which still sends the two 4x4 kernels to oneDNN: 145 us each in
// resnet8-bench --profile), and ~0.54-0.65 ms (1,500 against 1,190 images/s, median of interleaved runs)
// with at::thnn_conv2d for all nine.
at::Tensor run(const FoldedConv& c, const at::Tensor& x) {
  static const bool mkldnn = at::hasMKLDNN();
  at::Tensor y = mkldnn && x.size(0) > 1
                     ? at::mkldnn_convolution(x, c.weight, c.bias, {c.padding, c.padding}, {c.stride, c.stride}, {1, 1}, 1)
                     : at::thnn_conv2d(x, c.weight, {c.weight.size(2), c.weight.size(3)}, c.bias, {c.stride, c.stride},
                                       {c.padding, c.padding});
  return c.relu ? at::relu_(y) : y;
}

}  // namespace

at::Tensor FoldedConv::original_weight() const {
  return padded_kernel ? weight.slice(2, 1).slice(3, 1).contiguous() : weight;
}

FoldedResNet8 fold(const ResNet8& model) {
  FoldedResNet8 out;
  out.stem = fold_conv("stem.conv", model->stem->conv, model->stem->bn, 1, true);
  const std::vector<std::pair<std::string, Stack>> stacks = {
      {"stack1", model->stack1}, {"stack2", model->stack2}, {"stack3", model->stack3}};
  for (const auto& [name, stack] : stacks) {
    const int64_t stride = stack->shortcut ? 2 : 1;
    FoldedStack s;
    s.name = name;
    s.conv1 = fold_conv(name + ".conv1", stack->conv1, stack->bn1, stride, true);
    s.conv2 = fold_conv(name + ".conv2", stack->conv2, stack->bn2, 1, false);
    if (stack->shortcut) {
      s.has_shortcut = true;
      s.shortcut = fold_conv(name + ".shortcut", stack->shortcut, nullptr, stride, false);
    }
    out.stacks.push_back(std::move(s));
  }
  out.fc_weight = model->fc->weight.detach().clone();
  out.fc_bias = model->fc->bias.detach().clone();
  return out;
}

std::vector<const FoldedConv*> FoldedResNet8::convs() const {
  std::vector<const FoldedConv*> out = {&stem};
  for (const auto& s : stacks) {
    out.push_back(&s.conv1);
    out.push_back(&s.conv2);
    if (s.has_shortcut) out.push_back(&s.shortcut);
  }
  return out;
}

at::Tensor FoldedResNet8::forward(const at::Tensor& x, const Observe& observe, const Transform& transform) const {
  auto seen = [&](const std::string& point, const at::Tensor& t) {
    if (observe) observe(point, t);
    return transform ? transform(point, t) : t;
  };
  at::Tensor h = seen("input", x).permute({0, 3, 1, 2});
  h = seen(stem.name, run(stem, h));
  for (const auto& s : stacks) {
    at::Tensor y = seen(s.name + ".conv1", run(s.conv1, h));
    y = seen(s.name + ".conv2", run(s.conv2, y));
    const at::Tensor skip = s.has_shortcut ? seen(s.name + ".shortcut", run(s.shortcut, h)) : h;
    h = seen(s.name + ".add", at::relu_(y.add_(skip)));
  }
  at::Tensor pooled = h.mean({2, 3});
  if (transform) pooled = transform("pool", pooled);
  const at::Tensor logits = seen("fc", at::linear(pooled, fc_weight, fc_bias));
  return at::softmax(logits, 1);
}

}  // namespace resnet8
