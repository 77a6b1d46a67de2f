#include "testing.h"

#include <resnet8/benchmark.h>

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
