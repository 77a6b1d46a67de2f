#include "data/pickle_check.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>

namespace resnet8::detail {
namespace {

enum class Arg { kNone, kFixed, kSized, kLines };

struct Op {
  Arg arg;
  int bytes;  // kFixed: the argument's size; kSized: the size of the length field; kLines: lines
};

// Pickle protocols 0..5, by opcode byte; kUnknown for bytes that are no opcode.
constexpr Op kUnknown{Arg::kNone, -1};

// The table as a table: the opcodes that share an argument kind on one line.
// clang-format off
Op op_of(uint8_t c) {
  switch (c) {
    case 0x80: case 'K': case 'q': case 'h': case 0x82: return {Arg::kFixed, 1};
    case 'M': case 0x83: return {Arg::kFixed, 2};
    case 'J': case 'r': case 'j': case 0x84: return {Arg::kFixed, 4};
    case 0x95: case 'G': return {Arg::kFixed, 8};
    case 0x8c: case 'U': case 'C': case 0x8a: return {Arg::kSized, 1};
    case 'X': case 'T': case 'B': case 0x8b: return {Arg::kSized, 4};
    case 0x8d: case 0x8e: case 0x96: return {Arg::kSized, 8};
    case 'c': case 'i': return {Arg::kLines, 2};
    case 'I': case 'L': case 'S': case 'V': case 'F': case 'p': case 'g': case 'P': return {Arg::kLines, 1};
    case '(': case '.': case '0': case '1': case '2': case 'N': case 0x88: case 0x89: case ')': case 't':
    case 0x85: case 0x86: case 0x87: case ']': case 'a': case 'e': case 'l': case '}': case 'd': case 's':
    case 'u': case 'b': case 'R': case 0x81: case 0x92: case 'Q': case 'o': case 0x94: case 0x8f: case 0x90:
    case 0x91: case 0x93: case 0x97: case 0x98:
      return {Arg::kNone, 0};
    default: return kUnknown;
  }
}
// clang-format on

uint64_t little_endian(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

std::string pickle_problem(const char* data, size_t size) {
  size_t pos = 0;
  while (pos < size) {
    const size_t at = pos;
    const auto code = static_cast<uint8_t>(data[pos++]);
    const Op op = op_of(code);
    const size_t left = size - pos;
    if (op.bytes < 0) return fmt::format("unknown opcode 0x{:02x} at byte {}", code, at);
    if (code == '.') return "";  // STOP
    if (op.arg == Arg::kFixed || op.arg == Arg::kSized) {
      if (left < static_cast<size_t>(op.bytes)) return fmt::format("truncated at byte {}", at);
      pos += op.bytes;
    }
    // LONG_BINPUT / LONG_BINGET: the unpickler sizes its memo by the index (a fuzzed 1.6e9 asked for
    // 26 GB); a pickle cannot hold more memo entries than it has bytes.
    if ((code == 'r' || code == 'j') && little_endian(data + pos - 4, 4) > size) {
      return fmt::format("memo index {} at byte {} is beyond a {}-byte pickle", little_endian(data + pos - 4, 4), at,
                         size);
    }
    if (op.arg == Arg::kSized) {
      const uint64_t length = little_endian(data + pos - op.bytes, op.bytes);
      if (length > size - pos) {
        return fmt::format("opcode 0x{:02x} at byte {} claims {} bytes, {} are left", code, at, length, size - pos);
      }
      pos += length;
    }
    for (int line = 0; op.arg == Arg::kLines && line < op.bytes; ++line) {
      const void* end = std::memchr(data + pos, '\n', size - pos);
      if (end == nullptr) return fmt::format("unterminated line at byte {}", at);
      pos = static_cast<size_t>(static_cast<const char*>(end) - data) + 1;
    }
  }
  return "no STOP opcode";
}

}  // namespace resnet8::detail
