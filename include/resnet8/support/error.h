#pragma once
// The exception types the library throws for bad input, each with a message that names the file,
// option or tensor at fault and what was expected. Tools print it as "error: <message>" and map the
// type to an exit code: Error (a bad file, bad data, a failed write) exits 1; OptionError (a value
// the caller chose, e.g. an unknown layer or an out-of-range bit-width) exits 2 like a bad flag.
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

namespace resnet8 {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A bad option value, naming the library option (e.g. "float_layers", "weight_bits") so that a tool
// can name its own flag for it.
class OptionError : public Error {
 public:
  OptionError(std::string option, const std::string& message) : Error(message), option_(std::move(option)) {}
  const std::string& option() const { return option_; }

 private:
  std::string option_;
};

// The reason an exception from LibTorch, the TorchScript interpreter or the standard library gives,
// on one line: a c10::Error's message without its backtrace, the raised message of a TorchScript
// traceback (its last line), "out of memory" for std::bad_alloc, else the first non-empty line.
std::string one_line_reason(const std::exception& e);

}  // namespace resnet8
