#include <resnet8/support/error.h>

#include <c10/util/Exception.h>

#include <new>

namespace resnet8 {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  const auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

std::string one_line_reason(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e)) return "out of memory (std::bad_alloc)";
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  const std::string what = c10_error ? c10_error->what_without_backtrace() : e.what();
  // A TorchScript traceback ends with the raised exception ("RuntimeError: ...").
  if (what.find("Traceback of TorchScript") != std::string::npos) {
    const std::string body = trim(what);
    return trim(body.substr(body.find_last_of('\n') + 1));
  }
  const std::string body = trim(what);
  return trim(body.substr(0, body.find('\n')));
}

}  // namespace resnet8
