#pragma once
// The one exception type the library throws for bad input: a message that names the file, flag or
// tensor at fault and what was expected. Tools print it as "error: <message>" and exit non-zero.
#include <stdexcept>
#include <string>

namespace resnet8 {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace resnet8
