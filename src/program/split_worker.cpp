// The second core's worker for one image (split_worker.h).
#include <resnet8/micro/r8_conv_x86.h>
#include <resnet8/program/split_worker.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace resnet8 {
namespace {

void pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

constexpr auto kSpin = std::chrono::microseconds(200);

}  // namespace

struct SplitWorker::State {
  std::atomic<uint64_t> posted{0}, finished{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable wake;
  // The job, written before `posted` is raised: `job` when set, else the convolution's rows.
  Job job = nullptr;
  const void* context = nullptr;
  const r8_conv_params* p = nullptr;
  const int32_t* packed = nullptr;
  const int8_t* input = nullptr;
  int8_t* output = nullptr;
  int32_t row_begin = 0, row_end = 0;
  std::vector<int8_t> scratch;
  std::thread thread;

  // Waits for a job after `seen`: spinning for kSpin, then asleep. False when stopping.
  bool next(uint64_t seen) {
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (int n = 0; posted.load(std::memory_order_acquire) == seen; ++n) {
      if (stop.load(std::memory_order_acquire)) return false;
      if (n % 64 != 63 || std::chrono::steady_clock::now() < until) {
        pause();
        continue;
      }
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, [&] { return posted.load(std::memory_order_acquire) != seen || stop.load(); });
    }
    return !stop.load(std::memory_order_acquire);
  }

  void loop() {
    uint64_t seen = 0;
    while (next(seen)) {
      seen = posted.load(std::memory_order_acquire);
      if (job)
        job(context);
      else
        r8_conv_x86_rows(p, packed, input, output, scratch.data(), row_begin, row_end);
      finished.store(seen, std::memory_order_release);
    }
  }
};

SplitWorker::SplitWorker(int64_t scratch_bytes) : s_(std::make_unique<State>()) {
  s_->scratch.resize(static_cast<size_t>(scratch_bytes + 64));
  s_->thread = std::thread([state = s_.get()] { state->loop(); });
}

SplitWorker::~SplitWorker() {
  {
    std::lock_guard<std::mutex> lock(s_->mutex);
    s_->stop.store(true, std::memory_order_release);
  }
  s_->wake.notify_one();
  s_->thread.join();
}

int64_t SplitWorker::scratch_bytes() const { return static_cast<int64_t>(s_->scratch.size()) - 64; }

void SplitWorker::start(const r8_conv_params* p, const int32_t* packed, const int8_t* input, int8_t* output,
                        int32_t row_begin, int32_t row_end) {
  s_->job = nullptr;
  s_->p = p, s_->packed = packed, s_->input = input, s_->output = output;
  s_->row_begin = row_begin, s_->row_end = row_end;
  post();
}

void SplitWorker::start(Job job, const void* context) {
  s_->job = job, s_->context = context;
  post();
}

void SplitWorker::post() {
  s_->posted.fetch_add(1, std::memory_order_release);
  { std::lock_guard<std::mutex> lock(s_->mutex); }  // a worker about to sleep sees the job or is woken
  s_->wake.notify_one();
}

void SplitWorker::finish() {
  const uint64_t want = s_->posted.load(std::memory_order_relaxed);
  while (s_->finished.load(std::memory_order_acquire) != want) pause();
}

}  // namespace resnet8
