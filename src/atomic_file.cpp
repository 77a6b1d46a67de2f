#include <resnet8/atomic_file.h>

#include <resnet8/error.h>

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <random>

namespace fs = std::filesystem;

namespace resnet8 {
namespace {

fs::path directory_of(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

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
  if (fs::is_directory(path, ec)) throw Error(fmt::format("{} {}: is a directory, expected a file path", flag, path.string()));
  if (access(dir.c_str(), W_OK) != 0) {
    throw Error(fmt::format("{} {}: directory {} is not writable", flag, path.string(), dir.string()));
  }
}

void write_file_atomic(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  fs::path tmp;
  auto cleanup = [&] {
    std::error_code ec;
    if (!tmp.empty()) fs::remove_all(tmp.parent_path(), ec);
  };
  try {
    tmp = temp_path_beside(path);
    write(tmp);
    fs::rename(tmp, path);
    cleanup();
  } catch (const fs::filesystem_error& e) {
    cleanup();
    throw Error(fmt::format("{}: cannot write ({})", path.string(), e.code().message()));
  } catch (...) {
    cleanup();
    throw;
  }
}

void write_file_atomic(const fs::path& path, std::string_view contents) {
  write_file_atomic(path, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    if (!out) throw Error(fmt::format("{}: cannot write", path.string()));
  });
}

}  // namespace resnet8
