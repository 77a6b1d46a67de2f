#pragma once
// The readers under fuzzing take file paths: each input is written to one file in a per-process
// scratch directory (under /dev/shm when it exists), replaced by the next input, removed at exit.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace resnet8::fuzz {

inline void remove_scratch();

inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const std::filesystem::path base = std::filesystem::exists("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                                           : std::filesystem::temp_directory_path();
    auto d = base / ("resnet8-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    std::atexit(remove_scratch);
    return d;
  }();
  return dir;
}

inline void remove_scratch() {
  std::error_code ec;
  std::filesystem::remove_all(scratch_dir(), ec);
}

inline std::filesystem::path write_input(const std::string& name, const uint8_t* data, size_t size) {
  const auto file = scratch_dir() / name;
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return file;
}

}  // namespace resnet8::fuzz
