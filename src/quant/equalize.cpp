#include <resnet8/quant/equalize.h>

#include <ATen/ATen.h>

namespace resnet8 {
namespace {

// Per channel along `dim`, max |w| over the other dimensions.
at::Tensor channel_ranges(const at::Tensor& w, int64_t dim) {
  return w.transpose(0, dim).reshape({w.size(dim), -1}).abs().amax(1);
}

EqualizedPair equalize_pair(FoldedConv& first, FoldedConv& second) {
  const at::Tensor r1 = channel_ranges(first.weight, 0).to(at::kDouble);
  const at::Tensor r2 = channel_ranges(second.weight, 1).to(at::kDouble);
  // A channel that is zero on either side carries nothing: leave it as it is.
  const at::Tensor live = (r1 > 0).logical_and(r2 > 0);
  const at::Tensor s =
      at::where(live, at::sqrt(r1 / r2.clamp_min(1e-300)), at::ones_like(r1)).to(first.weight.scalar_type());
  first.weight = (first.weight / s.view({-1, 1, 1, 1})).contiguous(at::MemoryFormat::ChannelsLast);
  first.bias = (first.bias / s).contiguous();
  second.weight = (second.weight * s.view({1, -1, 1, 1})).contiguous(at::MemoryFormat::ChannelsLast);
  const at::Tensor sf = s.to(at::kFloat).contiguous();
  return {first.name, second.name, std::vector<float>(sf.data_ptr<float>(), sf.data_ptr<float>() + sf.numel())};
}

}  // namespace

std::vector<std::pair<std::string, std::string>> equalizable_pairs(const Graph& graph) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Node* first : graph.of_kind(NodeKind::kConv)) {
    const std::vector<std::string> readers = graph.readers(first->name);
    if (first->relu && readers.size() == 1 && graph.node(readers[0]).kind == NodeKind::kConv) {
      out.emplace_back(first->name, readers[0]);
    }
  }
  return out;
}

FoldedResNet8 equalize(const FoldedResNet8& model, std::vector<EqualizedPair>* pairs) {
  FoldedResNet8 out = model;
  for (const auto& [first, second] : equalizable_pairs(out.graph)) {
    EqualizedPair p = equalize_pair(out.conv(first), out.conv(second));
    if (pairs) pairs->push_back(std::move(p));
  }
  return out;
}

double channel_range_spread(const at::Tensor& weight, int64_t dim) {
  const at::Tensor r = channel_ranges(weight, dim).to(at::kDouble);
  return (r.max() / r.min()).item<double>();
}

}  // namespace resnet8
