// The command-line kit (cli_kit.h).
#include "cli_kit.h"

#include <resnet8/support/allocator.h>
#include <resnet8/support/output_guard.h>

#include <c10/util/Exception.h>

#include <cstdio>

namespace resnet8::cli {

std::vector<std::string> split_list(const std::string& flag, const std::string& text, const std::string& item) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (true) {
    const size_t end = text.find(',', begin);
    out.push_back(text.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (out.back().empty()) {
      throw UsageError(fmt::format("--{} {}: expected a comma-separated list of {}", flag, text, item));
    }
    if (end == std::string::npos) return out;
    begin = end + 1;
  }
}

std::optional<cxxopts::ParseResult> parse(cxxopts::Options& options, int argc, char** argv) {
  options.add_options()("h,help", "show this help");
  auto args = options.parse(argc, argv);
  if (args.count("help")) {
    fmt::print("{}\n", options.help());
    return std::nullopt;
  }
  if (!args.unmatched().empty()) throw UsageError(fmt::format("unexpected argument '{}'", args.unmatched()[0]));
  return args;
}

namespace {

std::vector<std::string>& after_commit() {
  static std::vector<std::string> lines;
  return lines;
}

// LibTorch warns once that creating quantized tensors (quantize_per_tensor & co.) is deprecated. The
// quantized TorchScript these tools write depends on exactly those ops, so the tools drop that one warning
// (docs/QUANTIZATION.md) and print any other as "warning: ...".
class WarningFilter : public c10::WarningHandler {
 public:
  explicit WarningFilter(const char* tool) : tool_(tool) {}
  void process(const c10::Warning& warning) override {
    const std::string& msg = warning.msg();
    if (msg.find("quantized tensor creation functions") != std::string::npos) return;
    fmt::print(stderr, "{}: warning: {}\n", tool_, msg.substr(0, msg.find('\n')));
  }

 private:
  const char* tool_;
};

}  // namespace

void print_after_commit(std::string text) { after_commit().push_back(std::move(text)); }

int run(const char* tool, const std::function<int()>& body) {
  keep_freed_memory_for_reuse();
  OutputGuard outputs;
  install_signal_cleanup();
  static WarningFilter filter(tool);
  c10::WarningUtils::set_warning_handler(&filter);
  auto fail = [tool](int code, const std::string& message) {
    fmt::print(stderr, "{}: error: {}\n", tool, message);
    if (code == kExitUsage) fmt::print(stderr, "(see {} --help)\n", tool);
    return code;
  };
  try {
    const int code = body();
    if (code != 0) return code;
    outputs.commit();
    for (const std::string& line : after_commit()) fmt::print("{}\n", line);
    return code;
  } catch (const cxxopts::exceptions::exception& e) {
    return fail(kExitUsage, e.what());
  } catch (const UsageError& e) {
    return fail(kExitUsage, e.what());
  } catch (const OptionError& e) {
    return fail(kExitUsage, e.what());
  } catch (const Error& e) {
    return fail(kExitError, e.what());
  } catch (const c10::Error& e) {
    return fail(kExitError, "libtorch: " + one_line_reason(e));
  } catch (const std::exception& e) {
    return fail(kExitError, one_line_reason(e));
  }
}

}  // namespace resnet8::cli
