#pragma once
// A small kit for command-line tools, generic over what they do: the error policy (one "TOOL: error: ..."
// line on stderr, exit 1 for a bad file or data, exit 2 for a bad command line, outputs kept only when the
// run succeeds), numbers and lists parsed whole with their flag named in every message, and --help.
// The project's own flag groups are in flags.h.
#include <resnet8/support/error.h>

#include <fmt/format.h>
#include <cxxopts.hpp>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace resnet8::cli {

inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

struct UsageError : Error {
  using Error::Error;
};

// A number written in `text`, whole (no sign for unsigned types, no spaces, no trailing characters), or nothing.
template <typename T>
std::optional<T> parse_number(const std::string& text) {
  T value{};
  if constexpr (std::is_floating_point_v<T>) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])) || end != text.c_str() + text.size() ||
        errno != 0 || !std::isfinite(v)) {
      return std::nullopt;
    }
    value = static_cast<T>(v);
  } else {
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  }
  return value;
}

// The numeric flag --`flag` (declared as a string option, so that every bad value gets this message):
// a number in [minimum, maximum]; anything else is a usage error naming the flag and the range.
template <typename T>
T number(const cxxopts::ParseResult& args, const std::string& flag, T minimum, T maximum) {
  const std::string text = args[flag].as<std::string>();
  const std::optional<T> value = parse_number<T>(text);
  if (!value || *value < minimum || *value > maximum) {
    throw UsageError(fmt::format("--{} {}: expected {} in {}..{}", flag, text,
                                 std::is_floating_point_v<T> ? "a number" : "an integer", minimum, maximum));
  }
  return *value;
}

// "a,b,c" -> {"a", "b", "c"}: the one list parser. An empty list or item is a usage error naming `flag`
// and saying what an item is (`item`).
std::vector<std::string> split_list(const std::string& flag, const std::string& text, const std::string& item);

// "1,32,256" -> {1, 32, 256}: numbers in [minimum, maximum] (parse_number), else a usage error naming `flag`.
template <typename T>
std::vector<T> number_list(const std::string& flag, const std::string& text, T minimum, T maximum) {
  const std::string what = fmt::format("integers in {}..{}", minimum, maximum);
  std::vector<T> out;
  for (const std::string& item : split_list(flag, text, what)) {
    const std::optional<T> v = parse_number<T>(item);
    if (!v || *v < minimum || *v > maximum) {
      throw UsageError(fmt::format("--{} {}: expected a comma-separated list of {}", flag, text, what));
    }
    out.push_back(*v);
  }
  return out;
}

// Adds -h/--help and parses argv. Prints the help and returns nothing when it was asked for; refuses stray
// positional arguments.
std::optional<cxxopts::ParseResult> parse(cxxopts::Options& options, int argc, char** argv);

// Runs f(); an OptionError from the library becomes a usage error that names the tool's flag for
// that option (`flags`: library option -> flag text, e.g. {"float_layers", "--keep-float"}).
template <typename F>
auto naming_flags(const std::map<std::string, std::string>& flags, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const OptionError& e) {
    const auto it = flags.find(e.option());
    throw UsageError(it == flags.end() ? std::string(e.what()) : it->second + ": " + e.what());
  }
}

// Prints `text` once the run's outputs are committed (a "wrote ..." line is true only then); nothing if the
// run fails.
void print_after_commit(std::string text);

// Runs body() with all-or-nothing outputs (support/output_guard.h: kept only when it returns 0, undone on a
// signal) and turns every exception into one clear line and the right exit code.
int run(const char* tool, const std::function<int()>& body);

}  // namespace resnet8::cli
