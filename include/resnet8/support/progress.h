#pragma once
// A one-line progress bar on stderr, drawn only when stderr is a terminal.
#include <chrono>
#include <cstdint>
#include <string>

namespace resnet8 {

class Progress {
 public:
  explicit Progress(std::string label, bool enabled = stderr_is_terminal());
  ~Progress();  // ends an unfinished line
  // Redraws at most every 100 ms; the line ends when done reaches total.
  void update(int64_t done, int64_t total);

  static bool stderr_is_terminal();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  bool finished_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace resnet8
