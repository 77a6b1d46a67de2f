#include <resnet8/support/output_guard.h>

#include <resnet8/support/error.h>

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace resnet8 {
namespace {

// Fixed buffers, so that the signal handler reads only memory that is never reallocated and calls only
// async-signal-safe functions (unlink, rmdir).
constexpr size_t kPathMax = 4096;
constexpr int kMaxOutputs = 32;

struct Staged {
  char target[kPathMax];
  char file[kPathMax];  // the written temporary file
  char dir[kPathMax];   // its private directory
};

Staged staged[kMaxOutputs];
volatile sig_atomic_t staged_count = 0;
char writing_dir[kPathMax], writing_file[kPathMax];
volatile sig_atomic_t writing_active = 0;
constexpr int kMaxCreatedDirs = 4;
char created_dirs[kMaxCreatedDirs][kPathMax];  // output directories this run created
volatile sig_atomic_t created_count = 0;
bool guard_active = false;

void copy_path(char* out, const fs::path& p) {
  const std::string s = p.string();
  if (s.size() >= kPathMax) throw Error(fmt::format("{}: path too long", s));
  std::memcpy(out, s.c_str(), s.size() + 1);
}

// Async-signal-safe: remove everything written and not committed.
void remove_uncommitted() {
  if (writing_active) {
    unlink(writing_file);
    rmdir(writing_dir);
    writing_active = 0;
  }
  for (int i = staged_count - 1; i >= 0; --i) {
    unlink(staged[i].file);
    rmdir(staged[i].dir);
  }
  staged_count = 0;
  for (int i = created_count - 1; i >= 0; --i) rmdir(created_dirs[i]);  // only if empty: never a user's file
  created_count = 0;
}

void on_signal(int sig) {
  remove_uncommitted();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// SIGINT, SIGTERM and SIGHUP held off for the guard's lifetime: a commit is never cut in half.
class SignalsHeld {
 public:
  SignalsHeld() {
    sigset_t set;
    sigemptyset(&set);
    for (const int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
    pthread_sigmask(SIG_BLOCK, &set, &previous_);
  }
  ~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

 private:
  sigset_t previous_;
};

// Exclusive flock()s on a set of directories, taken in path order (two runs never wait on each other
// in a cycle) and released, after each directory is fsync'd, by the destructor.
class DirectoryLocks {
 public:
  explicit DirectoryLocks(std::vector<fs::path> dirs) {
    std::sort(dirs.begin(), dirs.end());
    dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
    for (const auto& d : dirs) {
      const int fd = open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        throw Error(fmt::format("{}: cannot open the output directory ({})", d.string(), std::strerror(errno)));
      fds_.push_back(fd);
      while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) throw Error(fmt::format("{}: cannot lock ({})", d.string(), std::strerror(errno)));
      }
    }
  }
  ~DirectoryLocks() {
    for (const int fd : fds_) {
      fsync(fd);  // the renames are durable before the lock goes
      close(fd);  // releases the flock
    }
  }
  DirectoryLocks(const DirectoryLocks&) = delete;
  DirectoryLocks& operator=(const DirectoryLocks&) = delete;

 private:
  std::vector<int> fds_;
};

struct Move {
  fs::path target, file, dir, backup;  // backup: a hard link to the file `target` replaced, if any
};

fs::path directory_of(const fs::path& p) {
  const fs::path abs = fs::absolute(p);
  return abs.has_parent_path() ? abs.parent_path() : fs::path("/");
}

// Renames every file into place under the locks; on a failure, puts back the targets already replaced.
void commit_moves(std::vector<Move>& moves) {
  std::vector<fs::path> dirs;
  dirs.reserve(moves.size());
  for (const auto& m : moves) dirs.push_back(directory_of(m.target));
  const DirectoryLocks locks(dirs);
  for (size_t i = 0; i < moves.size(); ++i) {
    Move& m = moves[i];
    struct stat old;
    if (lstat(m.target.c_str(), &old) == 0 && S_ISREG(old.st_mode)) {
      chmod(m.file.c_str(), old.st_mode & 07777);  // the replaced file's permissions, as it has them now
      m.backup = m.dir / ".previous";
      if (link(m.target.c_str(), m.backup.c_str()) != 0) m.backup.clear();
    }
    if (rename(m.file.c_str(), m.target.c_str()) != 0) {
      const int err = errno;
      for (size_t j = i; j-- > 0;) {
        if (!moves[j].backup.empty())
          rename(moves[j].backup.c_str(), moves[j].target.c_str());
        else
          unlink(moves[j].target.c_str());
      }
      throw Error(fmt::format("{}: cannot write ({})", m.target.string(), std::strerror(err)));
    }
  }
}

void remove_dirs(const std::vector<Move>& moves) {
  for (const auto& m : moves) {
    unlink(m.file.c_str());  // still there only if its rename did not happen
    if (!m.backup.empty()) unlink(m.backup.c_str());
    rmdir(m.dir.c_str());
  }
}

}  // namespace

OutputGuard::OutputGuard() {
  if (guard_active) throw Error("only one OutputGuard at a time");
  guard_active = true;
  staged_count = 0;
  created_count = 0;
}

OutputGuard::~OutputGuard() {
  remove_uncommitted();
  guard_active = false;
}

void OutputGuard::commit() {
  const SignalsHeld held;
  std::vector<Move> moves;
  moves.reserve(staged_count);
  for (int i = 0; i < staged_count; ++i) moves.push_back({staged[i].target, staged[i].file, staged[i].dir, {}});
  try {
    commit_moves(moves);
  } catch (...) {
    remove_dirs(moves);
    staged_count = 0;
    throw;
  }
  remove_dirs(moves);
  staged_count = 0;
  created_count = 0;  // they hold the committed files now
}

void install_signal_cleanup() {
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, on_signal);
  // Past a file-size limit (ulimit -f), SIGXFSZ would kill the process mid-write and leave the staged file;
  // ignored, the write fails with EFBIG instead and the run ends through its one error line and clean-up.
  std::signal(SIGXFSZ, SIG_IGN);
}

namespace detail {

bool output_guard_active() { return guard_active; }

void writing_started(const fs::path& dir, const fs::path& file) {
  writing_active = 0;
  copy_path(writing_dir, dir);
  copy_path(writing_file, file);
  writing_active = 1;
}

void writing_finished() { writing_active = 0; }

void directory_created(const fs::path& dir) {
  if (!guard_active) return;
  if (created_count >= kMaxCreatedDirs) throw Error("too many output directories in one run");
  copy_path(created_dirs[created_count], fs::absolute(dir));
  created_count = created_count + 1;
}

void stage(const fs::path& target, const fs::path& file, const fs::path& dir) {
  const fs::path abs = fs::absolute(target).lexically_normal();
  for (int i = 0; i < staged_count; ++i) {
    if (abs == staged[i].target) {  // written twice in one run: the later bytes win
      unlink(staged[i].file);
      rmdir(staged[i].dir);
      copy_path(staged[i].file, fs::absolute(file));
      copy_path(staged[i].dir, fs::absolute(dir));
      return;
    }
  }
  if (staged_count >= kMaxOutputs) throw Error("too many outputs in one run");
  Staged& s = staged[staged_count];
  copy_path(s.target, abs);
  copy_path(s.file, fs::absolute(file));
  copy_path(s.dir, fs::absolute(dir));
  staged_count = staged_count + 1;
}

fs::path staged_file(const fs::path& target) {
  if (!guard_active) return {};
  const fs::path abs = fs::absolute(target).lexically_normal();
  for (int i = 0; i < staged_count; ++i) {
    if (abs == staged[i].target) return staged[i].file;
  }
  return {};
}

void commit_one(const fs::path& target, const fs::path& file, const fs::path& dir) {
  std::vector<Move> moves = {{target, file, dir, {}}};
  try {
    commit_moves(moves);
  } catch (...) {
    remove_dirs(moves);
    throw;
  }
  remove_dirs(moves);
}

}  // namespace detail
}  // namespace resnet8
