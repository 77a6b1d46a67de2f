#pragma once
// Output files are written to a temporary name beside the target and renamed into place, so a
// failure never leaves a half-written model or report behind (see output_guard.h for whole runs).
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace resnet8 {

// Writes `contents` to `path` atomically. Throws resnet8::Error naming `path` on failure.
void write_file_atomic(const std::filesystem::path& path, std::string_view contents);

// Calls `write(tmp_path)` to produce the file at a temporary path beside `path`, then renames it
// into place; the temporary file is removed if `write` throws.
void write_file_atomic(const std::filesystem::path& path,
                       const std::function<void(const std::filesystem::path&)>& write);

// Throws resnet8::Error naming `flag` and `path` unless a file can be created at `path`: the
// directory exists and is writable, and `path` is absent or a regular file. A symbolic link, device,
// FIFO, socket or directory is refused (the rename would swap a regular file in for it). Tools call
// it before long work.
void check_writable(const std::filesystem::path& path, std::string_view flag);

struct NamedPath {
  std::string flag;  // "--json"
  std::filesystem::path path;
};

// Throws resnet8::Error when an output is the same file as an input or as another output:
// std::filesystem::equivalent for files that exist, the same absolute normal path otherwise.
void check_distinct(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs);

}  // namespace resnet8
