// The network's structure written once (architecture.h) and the graph every writer walks (graph.h).
#include "testing.h"

#include <resnet8/model/architecture.h>
#include <resnet8/model/folded.h>
#include <resnet8/model/model.h>
#include <resnet8/quant/planner.h>
#include <resnet8/support/error.h>

#include <map>
#include <set>

using resnet8::NodeKind;

TEST_CASE("the architecture is the fp32 module's structure: every layer's tensors by name and shape, none left over") {
  const resnet8::Graph& g = resnet8::resnet8_graph();
  resnet8::ResNet8 model;
  std::map<std::string, std::vector<int64_t>> tensors;
  for (const auto& p : model->named_parameters()) tensors[p.key()] = p.value().sizes().vec();
  for (const auto& b : model->named_buffers()) tensors[b.key()] = b.value().sizes().vec();
  std::set<std::string> used;
  auto expect = [&](const std::string& name, const std::vector<int64_t>& shape) {
    INFO(name);
    REQUIRE(tensors.count(name) == 1);
    CHECK(tensors.at(name) == shape);
    used.insert(name);
  };
  for (const resnet8::Node* n : g.layers()) {
    if (n->kind == NodeKind::kConv) {
      expect(n->name + ".weight", {n->out_channels, n->in_channels, n->kernel, n->kernel});
    } else {
      expect(n->name + ".weight", {n->out_channels, n->in_channels});
    }
    expect(n->name + ".bias", {n->out_channels});
    if (!n->batch_norm.empty()) {
      for (const char* t : {".weight", ".bias", ".running_mean", ".running_var"})
        expect(n->batch_norm + t, {n->out_channels});
      used.insert(n->batch_norm + ".num_batches_tracked");
    }
  }
  for (const auto& [name, shape] : tensors) CHECK_MESSAGE(used.count(name) == 1, name, " is not in the architecture");
  // Channels chain: each layer reads what its input node writes.
  const auto shapes = g.shapes();
  for (const resnet8::Node* n : g.layers()) {
    CHECK(shapes[g.index(n->inputs[0])].channels == n->in_channels);
  }
}

TEST_CASE("the graph's shapes, 'same' paddings and multiply-accumulates follow from the input size and the strides") {
  const resnet8::Graph& g = resnet8::resnet8_graph();
  const auto shapes = g.shapes();
  auto shape = [&](const std::string& n) {
    const auto s = shapes[g.index(n)];
    return std::vector<int64_t>{s.channels, s.height, s.width};
  };
  CHECK(shape("input") == std::vector<int64_t>{3, 32, 32});
  CHECK(shape("stack1.add") == std::vector<int64_t>{16, 32, 32});
  CHECK(shape("stack2.conv1") == std::vector<int64_t>{32, 16, 16});
  CHECK(shape("stack3.add") == std::vector<int64_t>{64, 8, 8});
  CHECK(shape("pool") == std::vector<int64_t>{64, 1, 1});
  CHECK(shape("softmax") == std::vector<int64_t>{10, 1, 1});
  // TensorFlow 'same': stride-2 3x3 pads 0 before and 1 after, 1x1 stride-2 pads nothing, 3x3 stride-1 pads 1.
  CHECK(g.padding("stack2.conv1") == std::pair<int64_t, int64_t>{0, 1});
  CHECK(g.padding("stack3.conv1") == std::pair<int64_t, int64_t>{0, 1});
  CHECK(g.padding("stack3.shortcut") == std::pair<int64_t, int64_t>{0, 0});
  CHECK(g.padding("stem.conv") == std::pair<int64_t, int64_t>{1, 1});
  // Per layer: output positions x output channels x kernel inputs, summed independently of the graph's code.
  int64_t macs = 32 * 32 * 16 * 27 + 2 * 32 * 32 * 16 * 144;                      // stem, stack1
  macs += 16 * 16 * 32 * (16 * 9) + 16 * 16 * 32 * (32 * 9) + 16 * 16 * 32 * 16;  // stack2
  macs += 8 * 8 * 64 * (32 * 9) + 8 * 8 * 64 * (64 * 9) + 8 * 8 * 64 * 32;        // stack3
  macs += 64 * 10;                                                                // fc
  CHECK(g.multiply_accumulates() == macs);
}

TEST_CASE("the graph's readers, last readers and value slots: a residual's skip stays live across the block") {
  const resnet8::Graph& g = resnet8::resnet8_graph();
  CHECK(g.readers("stem.conv") == std::vector<std::string>{"stack1.conv1", "stack1.add"});
  CHECK(g.readers("stack1.add") == std::vector<std::string>{"stack2.conv1", "stack2.shortcut"});
  const auto last = g.last_readers();
  CHECK(last[g.index("stem.conv")] == g.index("stack1.add"));
  CHECK(last[g.index("softmax")] == g.index("softmax"));
  // Two slots suffice; the skip keeps slot 0 while conv1 and conv2 use slot 1.
  const auto slots = g.value_slots();
  std::map<std::string, int> slot;
  for (size_t i = 0; i < g.nodes.size(); ++i) slot[g.nodes[i].name] = slots[i];
  CHECK(*std::max_element(slots.begin(), slots.end()) == 1);
  CHECK(slot["stem.conv"] == 0);
  CHECK(slot["stack1.conv1"] == 1);
  CHECK(slot["stack1.conv2"] == 1);
  CHECK(slot["stack1.add"] == 0);
  CHECK(slot["stack2.shortcut"] == 0);
  CHECK(slot["stack2.add"] == 0);
  CHECK_THROWS_AS(g.node("stack4.conv1"), resnet8::Error);
}

TEST_CASE("run_graph hands each node its inputs in order and drops a value after its last reader") {
  resnet8::Graph g;
  auto node = [](const std::string& name, std::vector<std::string> inputs) {
    resnet8::Node n;
    n.kind = inputs.empty() ? NodeKind::kInput : NodeKind::kAdd;
    n.name = name;
    n.inputs = std::move(inputs);
    return n;
  };
  g.nodes = {node("a", {}), node("b", {"a"}), node("c", {"b", "a"}), node("d", {"c"})};
  std::vector<std::string> seen;
  std::weak_ptr<int> a_value;
  const auto out = resnet8::run_graph<std::shared_ptr<int>>(g, [&](const resnet8::Node& n, const auto& in) {
    std::string line = n.name + "(";
    for (const auto* v : in) line += std::to_string(**v) + ",";
    seen.push_back(line + ")");
    if (n.name == "d") CHECK(a_value.expired());  // read last by c
    auto v = std::make_shared<int>(static_cast<int>(seen.size()));
    if (n.name == "a") a_value = v;
    return v;
  });
  CHECK(seen == std::vector<std::string>{"a()", "b(1,)", "c(2,1,)", "d(3,)"});
  CHECK(*out == 4);
}

TEST_CASE("the folded network walks the graph: the same function as the fp32 module") {
  torch::manual_seed(11);
  resnet8::ResNet8 model;
  model->eval();
  {  // non-trivial batch norm statistics
    torch::NoGradGuard no_grad;
    for (auto& b : model->named_buffers()) {
      if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 2.0);
      if (b.key().find("running_mean") != std::string::npos) b.value().uniform_(-0.2, 0.2);
    }
  }
  const auto folded = resnet8::fold(model);
  CHECK(folded.convs.size() == resnet8::resnet8_graph().of_kind(NodeKind::kConv).size());
  torch::NoGradGuard no_grad;
  const auto x = torch::randint(0, 256, {4, 32, 32, 3}).to(torch::kFloat);
  CHECK(torch::allclose(folded.forward(x), model->forward(x), 1e-5, 1e-6));
  std::vector<std::string> observed;
  folded.forward(x, [&](const std::string& p, const torch::Tensor&) { observed.push_back(p); });
  CHECK(observed == resnet8::activation_points(folded));
}
