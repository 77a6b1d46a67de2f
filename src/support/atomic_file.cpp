#include <resnet8/support/atomic_file.h>

#include <resnet8/support/error.h>
#include <resnet8/support/output_guard.h>

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

namespace fs = std::filesystem;

namespace resnet8 {
namespace {

fs::path directory_of(const fs::path& path) { return path.has_parent_path() ? path.parent_path() : fs::path("."); }

// A fresh hidden directory beside `path`, holding a file of the same name: writers that record
// the file name (TorchScript archives name their top folder after it) see the final name.
fs::path temp_path_beside(const fs::path& path) {
  std::random_device rd;
  const fs::path dir = directory_of(path) / fmt::format(".{}.{}-{:x}.tmp", path.filename().string(), getpid(), rd());
  fs::create_directory(dir);
  return dir / path.filename();
}

}  // namespace

void check_writable(const fs::path& path, std::string_view flag) {
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

void write_file_atomic(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  fs::path tmp;
  bool keep_dir = false;
  auto cleanup = [&] {
    std::error_code ec;
    detail::temp_finished();
    if (!tmp.empty() && !keep_dir) fs::remove_all(tmp.parent_path(), ec);
  };
  try {
    tmp = temp_path_beside(path);
    detail::temp_started(tmp.parent_path(), tmp);
    write(tmp);
    // Under an OutputGuard the file being replaced is kept (hard-linked) until the run commits.
    fs::path backup;
    if (detail::output_guard_active() && fs::is_regular_file(fs::symlink_status(path))) {
      backup = tmp.parent_path() / ".previous";
      fs::create_hard_link(path, backup);
    }
    fs::rename(tmp, path);
    keep_dir = !backup.empty();
    detail::output_placed(path, backup, keep_dir ? tmp.parent_path() : fs::path());
    cleanup();
  } catch (const fs::filesystem_error& e) {
    keep_dir = false;
    cleanup();
    throw Error(fmt::format("{}: cannot write ({})", path.string(), e.code().message()));
  } catch (...) {
    keep_dir = false;
    cleanup();
    throw;
  }
}

void write_file_atomic(const fs::path& path, std::string_view contents) {
  write_file_atomic(path, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    if (!out) throw Error(fmt::format("{}: cannot write ({})", path.string(), std::strerror(errno)));
  });
}

}  // namespace resnet8
