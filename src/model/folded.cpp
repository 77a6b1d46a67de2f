#include <resnet8/model/folded.h>

#include <resnet8/model/architecture.h>
#include <resnet8/model/model.h>
#include <resnet8/support/error.h>

#include <fmt/format.h>
#include <torch/torch.h>

namespace resnet8 {
namespace {

// The model's parameters and buffers by path ("stack2.bn1.running_var").
class ModuleTensors {
 public:
  explicit ModuleTensors(const ResNet8& model) {
    for (const auto& p : model->named_parameters()) tensors_[p.key()] = p.value().detach();
    for (const auto& b : model->named_buffers()) tensors_[b.key()] = b.value().detach();
  }
  const at::Tensor& at(const std::string& path) const {
    const auto it = tensors_.find(path);
    if (it == tensors_.end()) throw Error(fmt::format("the ResNet8 module has no tensor '{}'", path));
    return it->second;
  }

 private:
  std::map<std::string, at::Tensor> tensors_;
};

FoldedConv fold_conv(const Graph& graph, const Node& node, const ModuleTensors& m) {
  torch::NoGradGuard no_grad;
  FoldedConv out;
  out.name = node.name;
  out.stride = node.stride;
  out.relu = node.relu;
  at::Tensor weight = m.at(node.name + ".weight").clone();
  at::Tensor bias = m.at(node.name + ".bias").clone();
  if (!node.batch_norm.empty()) {
    const std::string& bn = node.batch_norm;
    const at::Tensor scale = m.at(bn + ".weight") / torch::sqrt(m.at(bn + ".running_var") + kBatchNormEps);
    weight = weight * scale.view({-1, 1, 1, 1});
    bias = (bias - m.at(bn + ".running_mean")) * scale + m.at(bn + ".bias");
  }
  const auto [before, after] = graph.padding(node.name);
  if (before == after) {
    out.padding = before;
  } else {
    TORCH_CHECK(before + 1 == after, "unexpected 'same' padding for ", node.name);
    weight = torch::constant_pad_nd(weight, {1, 0, 1, 0});  // zero first row and column: (k+1)x(k+1) kernel
    out.padding = after;
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
// much as the convolution itself there), and at::thnn_conv2d for all nine is faster still than at::conv2d,
// which sends the two 4x4 kernels to oneDNN (the figures: docs/RESULTS.md, "Speed"). Not while oneDNN is
// switched off (engine/float_kernels.h: the quantization's float stages, the same code on every CPU).
at::Tensor run(const FoldedConv& c, const at::Tensor& x) {
  static const bool mkldnn = at::hasMKLDNN();
  at::Tensor y =
      mkldnn && at::globalContext().userEnabledMkldnn() && x.size(0) > 1
          ? at::mkldnn_convolution(x, c.weight, c.bias, {c.padding, c.padding}, {c.stride, c.stride}, {1, 1}, 1)
          : at::thnn_conv2d(x, c.weight, {c.weight.size(2), c.weight.size(3)}, c.bias, {c.stride, c.stride},
                            {c.padding, c.padding});
  return c.relu ? at::relu_(y) : y;
}

}  // namespace

at::Tensor FoldedConv::original_weight() const {
  return padded_kernel ? weight.slice(2, 1).slice(3, 1).contiguous() : weight;
}

const FoldedConv& FoldedResNet8::conv(const std::string& name) const {
  for (const auto& c : convs) {
    if (c.name == name) return c;
  }
  throw Error(fmt::format("the folded network has no convolution '{}'", name));
}

FoldedConv& FoldedResNet8::conv(const std::string& name) {
  return const_cast<FoldedConv&>(static_cast<const FoldedResNet8&>(*this).conv(name));
}

FoldedResNet8 fold(const ResNet8& model) {
  const ModuleTensors tensors(model);
  FoldedResNet8 out;
  out.graph = resnet8_graph();
  for (const Node* n : out.graph.of_kind(NodeKind::kConv)) out.convs.push_back(fold_conv(out.graph, *n, tensors));
  const Node& fc = *out.graph.of_kind(NodeKind::kLinear).at(0);
  out.fc_weight = tensors.at(fc.name + ".weight").clone();
  out.fc_bias = tensors.at(fc.name + ".bias").clone();
  return out;
}

at::Tensor FoldedResNet8::forward(const at::Tensor& x, const Observe& observe, const Transform& transform) const {
  auto seen = [&](const Node& n, const at::Tensor& t) {
    if (observe) observe(n.name, t);
    return transform ? transform(n.name, t) : t;
  };
  return run_graph<at::Tensor>(graph, [&](const Node& n, const std::vector<const at::Tensor*>& in) -> at::Tensor {
    switch (n.kind) {
      case NodeKind::kInput: return seen(n, x).permute({0, 3, 1, 2});
      case NodeKind::kConv: return seen(n, run(conv(n.name), *in[0]));
      case NodeKind::kAdd: {
        at::Tensor sum = at::add(*in[0], *in[1]);
        return seen(n, n.relu ? at::relu_(sum) : sum);
      }
      case NodeKind::kPool: return seen(n, in[0]->mean({2, 3}));
      case NodeKind::kLinear: return seen(n, at::linear(*in[0], fc_weight, fc_bias));
      case NodeKind::kSoftmax: return at::softmax(*in[0], 1);
    }
    throw Error(fmt::format("node '{}': unknown kind", n.name));
  });
}

}  // namespace resnet8
