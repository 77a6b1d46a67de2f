#include <resnet8/support/atomic_file.h>

#include <resnet8/support/error.h>
#include <resnet8/support/output_guard.h>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fs = std::filesystem;

namespace resnet8 {
namespace {

fs::path directory_of(const fs::path& path) { return path.has_parent_path() ? path.parent_path() : fs::path("."); }

Error write_error(const fs::path& path, int err) {
  return Error(fmt::format("{}: cannot write ({})", path.string(), std::strerror(err)));
}

// A fresh private directory beside `path` (mode 0700), named after it.
fs::path make_temp_dir(const fs::path& path) {
  std::string pattern = (directory_of(path) / fmt::format(".{}.tmp.XXXXXX", path.filename().string())).string();
  if (!mkdtemp(pattern.data())) throw write_error(path, errno);
  return pattern;
}

// Writes all of `contents` to a new file `file` and fsyncs it; returns errno, or 0.
int write_all(const fs::path& file, std::string_view contents) {
  const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  const char* p = contents.data();
  size_t left = contents.size();
  int err = 0;
  while (left > 0 && err == 0) {
    const ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
    } else {
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  if (err == 0 && fsync(fd) != 0) err = errno;
  if (close(fd) != 0 && err == 0) err = errno;
  return err;
}

}  // namespace

void check_writable(const fs::path& path, std::string_view flag) {
  if (path.empty()) throw Error(fmt::format("{}: an empty path; expected a file name", flag));
  std::error_code ec;
  const fs::path dir = directory_of(path);
  if (!fs::is_directory(dir, ec)) {
    throw Error(fmt::format("{} {}: directory {} does not exist", flag, path.string(), dir.string()));
  }
  const fs::file_status st = fs::symlink_status(path, ec);
  if (fs::is_directory(st))
    throw Error(fmt::format("{} {}: is a directory, expected a file path", flag, path.string()));
  if (fs::is_symlink(st)) {
    throw Error(
        fmt::format("{} {}: is a symbolic link; give the path of a regular file (the link would be replaced, "
                    "not written through)",
                    flag, path.string()));
  }
  if (fs::exists(st) && !fs::is_regular_file(st)) {
    throw Error(
        fmt::format("{} {}: exists and is not a regular file (a device, FIFO or socket); refusing to replace it", flag,
                    path.string()));
  }
  if (access(dir.c_str(), W_OK) != 0) {
    throw Error(fmt::format("{} {}: directory {} is not writable", flag, path.string(), dir.string()));
  }
}

namespace {

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(fs::absolute(a), ec) == fs::weakly_canonical(fs::absolute(b), ec);
}

}  // namespace

void check_distinct(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const NamedPath& out = outputs[i];
    for (const NamedPath& in : inputs) {
      if (same_file(out.path, in.path)) {
        throw Error(fmt::format("{} {}: is the same file as the input {} {}; refusing to overwrite an input", out.flag,
                                out.path.string(), in.flag, in.path.string()));
      }
    }
    for (size_t j = 0; j < i; ++j) {
      if (same_file(out.path, outputs[j].path)) {
        throw Error(fmt::format("{} {}: is the same file as {} {}", out.flag, out.path.string(), outputs[j].flag,
                                outputs[j].path.string()));
      }
    }
  }
}

void write_file_atomic(const fs::path& path, std::string_view contents) {
  if (path.empty() || !path.has_filename()) throw Error(fmt::format("'{}': not a file path", path.string()));
  const fs::path dir = make_temp_dir(path);
  const fs::path file = dir / path.filename();
  detail::writing_started(dir, file);
  const int err = write_all(file, contents);
  if (err != 0) {
    unlink(file.c_str());
    rmdir(dir.c_str());
    detail::writing_finished();
    throw write_error(path, err);
  }
  if (detail::output_guard_active()) {
    detail::stage(path, file, dir);  // before writing_finished(): a signal in between still removes it
    detail::writing_finished();
  } else {
    detail::writing_finished();
    detail::commit_one(path, file, dir);
  }
}

fs::path written_path(const fs::path& path) {
  const fs::path staged = detail::staged_file(path);
  return staged.empty() ? path : staged;
}

}  // namespace resnet8
