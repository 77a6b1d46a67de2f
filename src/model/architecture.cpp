#include <resnet8/model/architecture.h>

namespace resnet8 {
namespace {

Node conv(const std::string& name, const std::string& input, int64_t in, int64_t out, int64_t kernel, int64_t stride,
          const std::string& batch_norm, bool relu) {
  Node n{NodeKind::kConv, name, {input}, name, relu, in, out, kernel, stride, 0, batch_norm};
  return n;
}

Node plain(NodeKind kind, const std::string& name, std::vector<std::string> inputs, bool relu = false) {
  Node n;
  n.kind = kind;
  n.name = name;
  n.inputs = std::move(inputs);
  n.point = kind == NodeKind::kSoftmax ? "" : name;  // the probabilities stay float
  n.relu = relu;
  return n;
}

Graph make_resnet8() {
  Graph g;
  Node input = plain(NodeKind::kInput, "input", {});
  input.out_channels = 3;
  input.size = 32;
  g.nodes.push_back(input);
  g.nodes.push_back(conv("stem.conv", "input", 3, 16, 3, 1, "stem.bn", true));
  std::string h = "stem.conv";
  int64_t channels = 16;
  struct Stack {
    const char* name;
    int64_t channels, stride;
  };
  for (const Stack& s : {Stack{"stack1", 16, 1}, Stack{"stack2", 32, 2}, Stack{"stack3", 64, 2}}) {
    const std::string p = s.name;
    g.nodes.push_back(conv(p + ".conv1", h, channels, s.channels, 3, s.stride, p + ".bn1", true));
    g.nodes.push_back(conv(p + ".conv2", p + ".conv1", s.channels, s.channels, 3, 1, p + ".bn2", false));
    std::string skip = h;
    if (s.stride != 1 || s.channels != channels) {  // a 1x1 projection where the shape changes
      g.nodes.push_back(conv(p + ".shortcut", h, channels, s.channels, 1, s.stride, "", false));
      skip = p + ".shortcut";
    }
    g.nodes.push_back(plain(NodeKind::kAdd, p + ".add", {p + ".conv2", skip}, true));
    h = p + ".add";
    channels = s.channels;
  }
  g.nodes.push_back(plain(NodeKind::kPool, "pool", {h}));
  Node fc = plain(NodeKind::kLinear, "fc", {"pool"});
  fc.in_channels = channels;
  fc.out_channels = 10;
  g.nodes.push_back(fc);
  g.nodes.push_back(plain(NodeKind::kSoftmax, "softmax", {"fc"}));
  return g;
}

}  // namespace

const Graph& resnet8_graph() {
  static const Graph graph = make_resnet8();
  return graph;
}

}  // namespace resnet8
