#pragma once
// Output files are written whole or not at all. write_file_atomic() writes the bytes to a temporary file
// in a fresh private directory beside the target (mode 0700), checking every write, fsyncs it, then
// renames it over the target and fsyncs the directory: a full disk, an I/O error or a power cut never
// leaves a half-written or empty file under the target's name. Under an OutputGuard (output_guard.h) the
// rename waits for the guard's commit, so that one run's outputs appear together.
//
// Permissions: a replaced file keeps its permission bits (a 0600 report stays private, a 0444 file stays
// read-only); a new file is created 0644, less the umask.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace resnet8 {

// Writes `contents` to `path` as above. Throws resnet8::Error naming `path` and the system's reason
// ("No space left on device", ...) on failure; the temporary directory is removed.
void write_file_atomic(const std::filesystem::path& path, std::string_view contents);

// Where a later step of the same run reads what it wrote to `path`: the staged temporary copy while an
// OutputGuard holds it uncommitted, else `path` itself.
std::filesystem::path written_path(const std::filesystem::path& path);

// Throws resnet8::Error naming `flag` and `path` unless a file can be created at `path`: the path is not
// empty, the directory exists and is writable, and `path` is absent or a regular file. A symbolic link,
// device, FIFO, socket or directory is refused (the rename would swap a regular file in for it). Tools
// call it before long work.
void check_writable(const std::filesystem::path& path, std::string_view flag);

struct NamedPath {
  std::string flag;  // "--json"
  std::filesystem::path path;
};

// Throws resnet8::Error when an output is the same file as an input or as another output:
// std::filesystem::equivalent for files that exist, the same absolute normal path otherwise.
void check_distinct(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs);

}  // namespace resnet8
