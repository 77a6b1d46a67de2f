#pragma once
// Input files are checked for what they are before they are opened: a missing file, a directory, a FIFO,
// a device or a socket is named as what it is, not as "not found" or a read error (a FIFO would block the
// reader; a device could be endless).
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace resnet8 {

// The size of `path`, a regular file (or a symbolic link to one). Throws resnet8::Error naming `path`, what
// it is, and `what` was expected there ("CIFAR-10 batch file", "model file"), otherwise.
std::uintmax_t input_file_size(const std::filesystem::path& path, std::string_view what);

}  // namespace resnet8
