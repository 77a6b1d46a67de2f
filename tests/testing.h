#pragma once
// Include this instead of doctest directly. LibTorch's c10 logging header defines glog-style
// CHECK/CHECK_EQ/... macros; whichever header comes last wins, so torch goes first and its macros
// are dropped before doctest defines its own.
#include <torch/torch.h>

#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LE
#undef CHECK_LT
#undef CHECK_GE
#undef CHECK_GT
#include <doctest/doctest.h>
#include <resnet8/support/error.h>

#include <filesystem>
#include <string>

namespace resnet8::testing {

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// The message of the resnet8::Error that `body` throws; fails the test if it throws nothing.
template <typename Body>
std::string error_of(Body&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    return e.what();
  }
  FAIL("expected an exception");
  return {};
}

// The option named by the resnet8::OptionError that `body` throws; fails the test if it throws none.
template <typename Body>
std::string option_of(Body&& body) {
  try {
    body();
  } catch (const resnet8::OptionError& e) {
    return e.option();
  }
  FAIL("expected an OptionError");
  return {};
}

}  // namespace resnet8::testing
