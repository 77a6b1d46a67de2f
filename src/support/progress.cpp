#include <resnet8/support/progress.h>

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace resnet8 {

Progress::Progress(std::string label, bool enabled) : label_(std::move(label)), enabled_(enabled) {}

Progress::~Progress() {
  if (drawn_ && !finished_) std::fputs("\n", stderr);
}

bool Progress::stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

void Progress::update(int64_t done, int64_t total) {
  if (!enabled_ || total <= 0) return;
  finished_ = false;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * done / total);
  fmt::print(stderr, "\r{} [{}{}] {}/{}", label_, std::string(filled, '#'), std::string(kWidth - filled, ' '), done,
             total);
  drawn_ = true;
  if (done >= total) {
    std::fputs("\n", stderr);
    finished_ = true;
  }
  std::fflush(stderr);
}

}  // namespace resnet8
