#include <resnet8/run/op_profile.h>

#include <resnet8/data/cifar10.h>
#include <resnet8/support/error.h>

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string_view>

namespace resnet8 {
namespace {

namespace prof = torch::autograd::profiler;
using Event = prof::LegacyEvent;

bool is_operator(const Event& e) { return std::string_view(e.name()).find("::") != std::string_view::npos; }

struct OpTotals {
  std::map<std::string, std::pair<int64_t, double>> outermost;  // name -> (calls, inclusive us)
  std::map<std::string, std::pair<int64_t, double>> self;       // name -> (calls, us outside its child operators)
};

// One thread's push/pop ranges summed by operator. Ranges that are not operators ("forward" and the other
// TorchScript functions) are looked through.
OpTotals sum_ops(const std::vector<Event>& events) {
  struct Open {
    const Event* start;
    bool op;
    double children_us = 0;
  };
  OpTotals out;
  std::vector<Open> open;
  int64_t open_ops = 0;
  for (const Event& e : events) {
    if (e.kind() == prof::EventKind::PushRange) {
      open.push_back({&e, is_operator(e)});
      open_ops += open.back().op;
    } else if (e.kind() == prof::EventKind::PopRange && !open.empty()) {
      const Open range = open.back();
      open.pop_back();
      if (!range.op) continue;
      const double us = range.start->cpuElapsedUs(e);
      auto& self = out.self[range.start->name()];
      ++self.first;
      self.second += us - range.children_us;
      const auto parent = std::find_if(open.rbegin(), open.rend(), [](const Open& o) { return o.op; });
      if (parent != open.rend()) parent->children_us += us;
      if (--open_ops == 0) {
        auto& [calls, total] = out.outermost[range.start->name()];
        ++calls;
        total += us;
      }
    }
  }
  return out;
}

std::vector<OpTime> per_forward(const std::map<std::string, std::pair<int64_t, double>>& totals, int64_t forwards) {
  std::vector<OpTime> out;
  out.reserve(totals.size());
  for (const auto& [name, v] : totals)
    out.push_back({name, double(v.first) / double(forwards), v.second / double(forwards)});
  std::sort(out.begin(), out.end(),
            [](const OpTime& a, const OpTime& b) { return a.us_per_forward > b.us_per_forward; });
  return out;
}

}  // namespace

double OpProfile::outside_ops_us() const {
  double in_ops = 0;
  for (const auto& o : ops) in_ops += o.us_per_forward;
  return std::max(0.0, us_per_forward - in_ops);
}

OpProfile profile_ops(const Classifier& classifier, const at::Tensor& images, int64_t batch_size, int64_t forwards,
                      int threads) {
  if (batch_size < 1 || batch_size > images.size(0)) {
    throw Error(fmt::format("profile: batch size {} outside 1..{} (the images available)", batch_size, images.size(0)));
  }
  if (forwards < 1) throw Error("profile: forwards must be >= 1");
  c10::InferenceMode guard;
  at::set_num_threads(threads);
  const at::Tensor x = cifar10::to_model_input(images.slice(0, 0, batch_size));
  for (int i = 0; i < 5; ++i) (void)classifier.forward(x);  // warm-up: first calls compile and pack

  prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
  const uint64_t thread = at::RecordFunction::currentThreadId();
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < forwards; ++i) (void)classifier.forward(x);
  const double wall_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  const prof::thread_event_lists lists = prof::disableProfilerLegacy();

  OpProfile p{threads, batch_size, forwards, wall_us / double(forwards), {}, {}};
  for (const auto& list : lists) {
    if (list.empty() || list.front().threadId() != thread) continue;  // intra-op workers run inside these ops
    const OpTotals totals = sum_ops(list);
    p.ops = per_forward(totals.outermost, forwards);
    p.self = per_forward(totals.self, forwards);
  }
  return p;
}

std::string to_table(const OpProfile& p) {
  std::string out =
      fmt::format("profile    batch {}, {} thread{}, {} forward calls under LibTorch's profiler: {:.1f} us per call\n",
                  p.batch_size, p.threads, p.threads == 1 ? "" : "s", p.forwards, p.us_per_forward);
  out += fmt::format("{:<40} {:>6} {:>11} {:>7}\n", "operator (outermost)", "calls", "us/forward", "share");
  const auto row = [&](const std::string& name, const std::string& calls, double us) {
    out += fmt::format("{:<40} {:>6} {:>11.1f} {:>6.1f}%\n", name, calls, us, 100.0 * us / p.us_per_forward);
  };
  for (const auto& o : p.ops) row(o.op, fmt::format("{:.3g}", o.calls_per_forward), o.us_per_forward);
  row("(between operators)", "", p.outside_ops_us());
  out += fmt::format("{:<40} {:>6} {:>11} {:>7}\n", "operator (self time)", "calls", "us/forward", "share");
  for (const auto& o : p.self) {
    if (o.us_per_forward >= 0.005 * p.us_per_forward)
      row(o.op, fmt::format("{:.3g}", o.calls_per_forward), o.us_per_forward);
  }
  return out;
}

}  // namespace resnet8
