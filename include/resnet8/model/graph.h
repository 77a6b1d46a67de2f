#pragma once
// A network as a small graph: its nodes in execution order, each naming the nodes it reads and the
// activation point its output is quantized at. The architecture (architecture.h) writes ResNet8 down
// once as such a graph; the quantization plan carries a copy (its activation points chosen by the
// planner), and every writer and runner walks that copy instead of spelling the network out again.
// No LibTorch types: writers built without LibTorch (ONNX) and generated C code read it too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace resnet8 {

enum class NodeKind {
  kInput,    // the image, NHWC [N, size, size, channels], raw 0..255 pixels
  kConv,     // 2-D convolution with TensorFlow's 'same' padding, bias, optional fused ReLU
  kAdd,      // element-wise sum of two nodes (a residual add), optional fused ReLU
  kPool,     // global average pool over height and width
  kLinear,   // fully connected layer, bias
  kSoftmax,  // softmax over the channels: the network's output
};

const char* node_kind_name(NodeKind kind);  // "input", "conv", "add", "pool", "linear", "softmax"

struct Node {
  NodeKind kind = NodeKind::kInput;
  std::string name;                 // "input", "stem.conv", "stack1.add", "pool", "fc", ...
  std::vector<std::string> inputs;  // the nodes it reads, in order
  // The activation point its output is quantized at: by default its own name; the planner may point a
  // node at its input's point (a pool that keeps its input's parameters); "" for an output left float.
  std::string point;
  bool relu = false;  // conv, add: a ReLU follows
  // conv: weights [out_channels, in_channels, kernel, kernel], `stride` in both dimensions;
  // linear: [out_channels, in_channels]; input: out_channels = image channels, `size` = height = width.
  int64_t in_channels = 0, out_channels = 0, kernel = 1, stride = 1, size = 0;
  std::string batch_norm;  // conv: module path of the batch norm that follows it in the fp32 model ("" none)
};

// A node's output per image: channels x height x width.
struct ValueShape {
  int64_t channels = 0, height = 1, width = 1;
  int64_t elements() const { return channels * height * width; }
};

struct Graph {
  std::vector<Node> nodes;  // in execution order: every node after the nodes it reads

  bool has(const std::string& name) const;
  const Node& node(const std::string& name) const;  // throws resnet8::Error naming the node
  Node& node(const std::string& name);
  size_t index(const std::string& name) const;  // position in `nodes`; throws as node()
  std::vector<const Node*> of_kind(NodeKind kind) const;
  std::vector<const Node*> layers() const;                          // the nodes with weights (conv, linear), in order
  std::vector<std::string> readers(const std::string& name) const;  // the nodes that read `name`
  // Per node, the position of the last node that reads it (its own position when none does).
  std::vector<size_t> last_readers() const;
  std::vector<ValueShape> shapes() const;  // per node, from the input's size and the strides
  // The 'same' zero padding {before, after} of a conv node (TensorFlow: the odd row goes after).
  std::pair<int64_t, int64_t> padding(const std::string& conv) const;
  int64_t multiply_accumulates() const;  // per image, convolutions and linear layers
  // A name for every node's value in generated straight-line code, as a slot number: a node takes the
  // slot of the last of its inputs that it reads for the last time, else the lowest slot not in use.
  std::vector<int> value_slots() const;
};

// {before, after} padding of one spatial dimension under TensorFlow's 'same' rule: a total of
// max((ceil(input / stride) - 1) * stride + kernel - input, 0), the odd element after.
std::pair<int64_t, int64_t> same_padding(int64_t input, int64_t kernel, int64_t stride);

// Runs `step(node, inputs)` for every node in order, where `inputs` holds pointers to the values of the
// nodes it reads, and returns the last node's value. A value is dropped after its last reader ran, so
// at most the live values are held (a batch of 1,000 images is 65 MB per 32x32x16 float value).
template <typename Value, typename Step>
Value run_graph(const Graph& graph, Step&& step) {
  const std::vector<size_t> last = graph.last_readers();
  std::vector<Value> values(graph.nodes.size());
  std::vector<std::vector<size_t>> reads(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    for (const auto& in : graph.nodes[i].inputs) reads[i].push_back(graph.index(in));
  }
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    std::vector<const Value*> inputs;
    for (const size_t k : reads[i]) inputs.push_back(&values[k]);
    values[i] = step(graph.nodes[i], inputs);
    for (const size_t k : reads[i]) {
      if (last[k] == i) values[k] = Value();
    }
  }
  return values.empty() ? Value() : std::move(values.back());
}

}  // namespace resnet8
