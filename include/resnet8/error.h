#pragma once
// The one exception type the library throws for bad input: a message that names the file, flag or
// tensor at fault and what was expected. Tools print it as "error: <message>" and exit non-zero.
#include <exception>
#include <stdexcept>
#include <string>

namespace resnet8 {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// The reason an exception from LibTorch, the TorchScript interpreter or the standard library gives,
// on one line: a c10::Error's message without its backtrace, the raised message of a TorchScript
// traceback (its last line), "out of memory" for std::bad_alloc, else the first non-empty line.
std::string one_line_reason(const std::exception& e);

}  // namespace resnet8
