#include <resnet8/support/input_file.h>

#include <resnet8/support/error.h>

#include <fmt/format.h>

namespace fs = std::filesystem;

namespace resnet8 {
namespace {

const char* kind_of(const fs::file_status& st) {
  switch (st.type()) {
    case fs::file_type::directory: return "a directory";
    case fs::file_type::fifo: return "a FIFO (named pipe)";
    case fs::file_type::character:
    case fs::file_type::block: return "a device";
    case fs::file_type::socket: return "a socket";
    default: return "not a regular file";
  }
}

}  // namespace

std::uintmax_t input_file_size(const fs::path& path, std::string_view what) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found || (ec && !fs::exists(st))) {
    throw Error(fmt::format("{}: {} not found", path.string(), what));
  }
  if (!fs::is_regular_file(st)) {
    throw Error(fmt::format("{}: is {}; expected a {} (a regular file)", path.string(), kind_of(st), what));
  }
  const std::uintmax_t bytes = fs::file_size(path, ec);
  if (ec) throw Error(fmt::format("{}: cannot read ({})", path.string(), ec.message()));
  return bytes;
}

}  // namespace resnet8
