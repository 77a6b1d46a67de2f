#include <resnet8/model/graph.h>

#include <resnet8/support/error.h>

#include <fmt/format.h>

#include <algorithm>

namespace resnet8 {

const char* node_kind_name(NodeKind kind) {
  switch (kind) {
    case NodeKind::kInput: return "input";
    case NodeKind::kConv: return "conv";
    case NodeKind::kAdd: return "add";
    case NodeKind::kPool: return "pool";
    case NodeKind::kLinear: return "linear";
    case NodeKind::kSoftmax: return "softmax";
  }
  return "?";
}

std::pair<int64_t, int64_t> same_padding(int64_t input, int64_t kernel, int64_t stride) {
  const int64_t output = (input + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((output - 1) * stride + kernel - input, 0);
  return {total / 2, total - total / 2};
}

bool Graph::has(const std::string& name) const {
  return std::any_of(nodes.begin(), nodes.end(), [&](const Node& n) { return n.name == name; });
}

size_t Graph::index(const std::string& name) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == name) return i;
  }
  throw Error(fmt::format("the network has no node '{}'", name));
}

const Node& Graph::node(const std::string& name) const { return nodes[index(name)]; }

Node& Graph::node(const std::string& name) { return nodes[index(name)]; }

std::vector<const Node*> Graph::of_kind(NodeKind kind) const {
  std::vector<const Node*> out;
  for (const auto& n : nodes) {
    if (n.kind == kind) out.push_back(&n);
  }
  return out;
}

std::vector<const Node*> Graph::layers() const {
  std::vector<const Node*> out;
  for (const auto& n : nodes) {
    if (n.kind == NodeKind::kConv || n.kind == NodeKind::kLinear) out.push_back(&n);
  }
  return out;
}

std::vector<std::string> Graph::readers(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& n : nodes) {
    if (std::find(n.inputs.begin(), n.inputs.end(), name) != n.inputs.end()) out.push_back(n.name);
  }
  return out;
}

std::vector<size_t> Graph::last_readers() const {
  std::vector<size_t> last(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    last[i] = i;
    for (const auto& in : nodes[i].inputs) last[index(in)] = i;
  }
  return last;
}

std::vector<ValueShape> Graph::shapes() const {
  std::vector<ValueShape> out;
  for (const auto& n : nodes) {
    const ValueShape in = n.inputs.empty() ? ValueShape{} : out[index(n.inputs.front())];
    switch (n.kind) {
      case NodeKind::kInput: out.push_back({n.out_channels, n.size, n.size}); break;
      case NodeKind::kConv:
        out.push_back({n.out_channels, (in.height + n.stride - 1) / n.stride, (in.width + n.stride - 1) / n.stride});
        break;
      case NodeKind::kLinear: out.push_back({n.out_channels, 1, 1}); break;
      case NodeKind::kPool: out.push_back({in.channels, 1, 1}); break;
      case NodeKind::kAdd:
      case NodeKind::kSoftmax: out.push_back(in); break;
    }
  }
  return out;
}

std::pair<int64_t, int64_t> Graph::padding(const std::string& conv) const {
  const Node& n = node(conv);
  const ValueShape in = shapes()[index(n.inputs.at(0))];
  return same_padding(in.height, n.kernel, n.stride);
}

int64_t Graph::multiply_accumulates() const {
  const std::vector<ValueShape> shape = shapes();
  int64_t macs = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    const int64_t k = n.kind == NodeKind::kConv ? n.kernel * n.kernel : 1;
    if (n.kind == NodeKind::kConv || n.kind == NodeKind::kLinear) macs += shape[i].elements() * n.in_channels * k;
  }
  return macs;
}

std::vector<int> Graph::value_slots() const {
  const std::vector<size_t> last = last_readers();
  std::vector<int> slot(nodes.size(), -1);
  std::vector<bool> busy;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& in : nodes[i].inputs) {
      const size_t k = index(in);
      if (last[k] == i) slot[i] = slot[k];  // the last such input wins
    }
    if (slot[i] < 0) {
      slot[i] = static_cast<int>(std::find(busy.begin(), busy.end(), false) - busy.begin());
      if (slot[i] == static_cast<int>(busy.size())) busy.push_back(false);
    }
    for (const auto& in : nodes[i].inputs) {
      const size_t k = index(in);
      if (last[k] == i) busy[slot[k]] = false;
    }
    busy[slot[i]] = true;
  }
  return slot;
}

}  // namespace resnet8
