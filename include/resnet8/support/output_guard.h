#pragma once
// All or nothing for a tool's outputs. While an OutputGuard lives, every write_file_atomic() is
// recorded; unless commit() is called, the guard's destructor undoes them: outputs the run created
// are removed and files they replaced are put back (a hard link to the old file is kept beside it
// until then). install_signal_cleanup() makes SIGINT, SIGTERM and SIGHUP do the same, plus remove a
// half-written temporary file, before the process dies of the signal.
#include <filesystem>

namespace resnet8 {

class OutputGuard {
 public:
  OutputGuard();
  ~OutputGuard();
  OutputGuard(const OutputGuard&) = delete;
  OutputGuard& operator=(const OutputGuard&) = delete;
  void commit();  // keep the outputs; drop the kept old files
};

void install_signal_cleanup();

namespace detail {
// Called by write_file_atomic.
bool output_guard_active();
void temp_started(const std::filesystem::path& dir, const std::filesystem::path& file);
void temp_finished();
// `path` now holds the new output; `backup` (empty if `path` did not exist) holds the old file,
// inside the temporary directory `dir`.
void output_placed(const std::filesystem::path& path, const std::filesystem::path& backup,
                   const std::filesystem::path& dir);
}  // namespace detail

}  // namespace resnet8
