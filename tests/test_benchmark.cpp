#include "testing.h"

#include <resnet8/benchmark.h>
#include <resnet8/folded.h>
#include <resnet8/model.h>
#include <resnet8/planner.h>

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
  const auto plan = resnet8::plan_structure(resnet8::fold(resnet8::ResNet8()), {});
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
  CHECK(resnet8::kResNet8OpsPerImage == 2 * macs);
  resnet8::BenchResult r;
  r.images_per_second = {1000};
  CHECK(r.median_gops() == doctest::Approx(1000 * 2 * macs / 1e9));
}
