#pragma once
// What every resnet8 tool shares: the error policy (one "error: ..." line on stderr, exit 1 for a
// bad file or data, exit 2 for a bad command line) and flag checks.
#include <resnet8/error.h>

#include <c10/util/Exception.h>
#include <cxxopts.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <string>

namespace resnet8::cli {

inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

struct UsageError : Error {
  using Error::Error;
};

template <typename T>
T positive(const cxxopts::ParseResult& args, const std::string& flag, T minimum = 1) {
  const T value = args[flag].as<T>();
  if (value < minimum) throw UsageError(fmt::format("--{} must be >= {}, got {}", flag, minimum, value));
  return value;
}

// Runs body(); turns every exception into one clear line and the right exit code.
template <typename Body>
int run(const char* tool, Body&& body) {
  auto fail = [tool](int code, const std::string& message) {
    fmt::print(stderr, "{}: error: {}\n", tool, message);
    if (code == kExitUsage) fmt::print(stderr, "(see {} --help)\n", tool);
    return code;
  };
  try {
    return body();
  } catch (const cxxopts::exceptions::exception& e) {
    return fail(kExitUsage, e.what());
  } catch (const UsageError& e) {
    return fail(kExitUsage, e.what());
  } catch (const Error& e) {
    return fail(kExitError, e.what());
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    return fail(kExitError, "libtorch: " + what.substr(0, what.find('\n')));
  } catch (const std::exception& e) {
    return fail(kExitError, e.what());
  }
}

}  // namespace resnet8::cli
