#include <resnet8/support/output_guard.h>

#include <resnet8/support/error.h>

#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

namespace fs = std::filesystem;

namespace resnet8 {
namespace {

// Fixed buffers, so that the signal handler reads only memory that is never reallocated and calls
// only async-signal-safe functions (unlink, rename, rmdir).
constexpr size_t kPathMax = 4096;
constexpr int kMaxOutputs = 32;

struct Placed {
  char path[kPathMax];
  char backup[kPathMax];
  char dir[kPathMax];
};

Placed placed[kMaxOutputs];
volatile sig_atomic_t placed_count = 0;
char temp_dir[kPathMax], temp_file[kPathMax];
volatile sig_atomic_t temp_active = 0;
bool guard_active = false;

void copy_path(char* out, const fs::path& p) {
  const std::string s = p.string();
  if (s.size() >= kPathMax) throw Error(fmt::format("{}: path too long", s));
  std::memcpy(out, s.c_str(), s.size() + 1);
}

// Async-signal-safe: put every output back as it was.
void undo_all() {
  if (temp_active) {
    unlink(temp_file);
    rmdir(temp_dir);
    temp_active = 0;
  }
  for (int i = placed_count - 1; i >= 0; --i) {
    if (placed[i].backup[0])
      rename(placed[i].backup, placed[i].path);
    else
      unlink(placed[i].path);
    if (placed[i].dir[0]) rmdir(placed[i].dir);
  }
  placed_count = 0;
}

void on_signal(int sig) {
  undo_all();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

OutputGuard::OutputGuard() {
  if (guard_active) throw Error("only one OutputGuard at a time");
  guard_active = true;
  placed_count = 0;
}

OutputGuard::~OutputGuard() {
  undo_all();
  guard_active = false;
}

void OutputGuard::commit() {
  for (int i = 0; i < placed_count; ++i) {
    if (placed[i].backup[0]) unlink(placed[i].backup);
    if (placed[i].dir[0]) rmdir(placed[i].dir);
  }
  placed_count = 0;
}

void install_signal_cleanup() {
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, on_signal);
}

namespace detail {

bool output_guard_active() { return guard_active; }

void temp_started(const fs::path& dir, const fs::path& file) {
  temp_active = 0;
  copy_path(temp_dir, dir);
  copy_path(temp_file, file);
  temp_active = 1;
}

void temp_finished() { temp_active = 0; }

void output_placed(const fs::path& path, const fs::path& backup, const fs::path& dir) {
  if (!guard_active) return;
  if (placed_count >= kMaxOutputs) throw Error("too many outputs in one run");
  Placed& p = placed[placed_count];
  copy_path(p.path, fs::absolute(path));
  copy_path(p.backup, backup.empty() ? backup : fs::absolute(backup));
  copy_path(p.dir, dir.empty() ? dir : fs::absolute(dir));
  placed_count = placed_count + 1;
}

}  // namespace detail
}  // namespace resnet8
