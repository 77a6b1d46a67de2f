#include "testing.h"

#include <resnet8/model/architecture.h>
#include <resnet8/model/folded.h>
#include <resnet8/model/model.h>
#include <resnet8/quant/planner.h>
#include <resnet8/run/benchmark.h>
#include <resnet8/support/error.h>

#include <algorithm>
#include <map>

TEST_CASE("benchmark statistics: median of passes, latency percentiles") {
  resnet8::BenchResult r;
  r.images_per_second = {30, 10, 20};
  CHECK(r.median_images_per_second() == 20);
  r.images_per_second.push_back(40);
  CHECK(r.median_images_per_second() == 25);
  for (int i = 100; i >= 1; --i) r.latency_ms.push_back(i);
  CHECK(r.latency_percentile_ms(50) == 50);
  CHECK(r.latency_percentile_ms(99) == 99);
  CHECK(r.latency_percentile_ms(100) == 100);
  CHECK(r.latency_percentile_ms(0) == 1);

  resnet8::BenchReport report;
  report.results = {r, r};
  report.results[1].images_per_second = {50, 60, 70};
  CHECK(report.best() == &report.results[1]);
}

TEST_CASE("the operations per image behind GFLOP/s and GOP/s are ResNet8's multiply-accumulates, twice") {
  // From the architecture: every layer's output positions x output channels x its kernel's inputs.
  const auto plan = resnet8::plan_structure(resnet8::resnet8_graph(), {});
  std::map<std::string, int64_t> size = {{"input", 32}};
  double macs = 0;
  for (const auto& l : plan.layers) {
    int64_t inputs = 1;
    for (size_t d = 1; d < l.weight_shape.size(); ++d) inputs *= l.weight_shape[d];
    const int64_t side = l.kind == resnet8::LayerKind::kLinear ? 1 : size.at(l.input) / l.stride;
    size[l.name] = side;
    if (l.name.find(".conv2") != std::string::npos) size[l.name.substr(0, l.name.find('.')) + ".add"] = side;
    macs += double(side * side * l.weight_shape[0] * inputs);
  }
  CHECK(resnet8::resnet8_ops_per_image() == 2 * macs);
  resnet8::BenchResult r;
  r.images_per_second = {1000};
  r.ops_per_image = resnet8::resnet8_ops_per_image();  // as benchmark() sets it for a TorchScript file
  CHECK(r.median_gops() == doctest::Approx(1000 * 2 * macs / 1e9));
}

TEST_CASE(
    "profile_ops splits a forward call by outermost operator: every convolution counted, times within the wall time") {
  torch::manual_seed(3);
  const auto model = std::make_shared<const resnet8::FoldedResNet8>(resnet8::fold(resnet8::ResNet8()));
  resnet8::Classifier c{[model](const at::Tensor& x) { return model->forward(x); }, resnet8::ModelKind::kNative, "",
                        "random.pt", 0};
  const auto images = torch::randint(0, 256, {4, 32, 32, 3}, torch::kByte);
  for (const int64_t batch : {1, 4}) {
    INFO("batch ", batch);
    const resnet8::OpProfile p = resnet8::profile_ops(c, images, batch, 10, 1);
    CHECK(p.forwards == 10);
    CHECK(p.batch_size == batch);
    REQUIRE_FALSE(p.ops.empty());
    double convs = 0, in_ops = 0;
    for (const auto& o : p.ops) {
      if (o.op.find("conv") != std::string::npos) convs += o.calls_per_forward;
      in_ops += o.us_per_forward;
      CHECK(o.us_per_forward >= 0);
    }
    CHECK(convs == 9);  // stem, two per stack, two shortcuts: outermost ops only, nothing counted twice
    CHECK(in_ops <= p.us_per_forward * 1.01);
    CHECK(p.outside_ops_us() == doctest::Approx(p.us_per_forward - in_ops).epsilon(0.02));
    CHECK(std::is_sorted(p.ops.begin(), p.ops.end(),
                         [](const auto& a, const auto& b) { return a.us_per_forward > b.us_per_forward; }));
    CHECK(resnet8::to_table(p).find("(between operators)") != std::string::npos);
  }
  CHECK_THROWS_AS(resnet8::profile_ops(c, images, 5, 10, 1), resnet8::Error);
}
