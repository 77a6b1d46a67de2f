#include <resnet8/formats/bit_pack.h>

#include <resnet8/support/error.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace resnet8 {
namespace {

void check_bits(int bits) {
  if (bits < 2 || bits > 8) throw Error(fmt::format("bit packing takes 2..8 bits, got {}", bits));
}

int32_t offset(int bits) { return int32_t{1} << (bits - 1); }

size_t run_values(const std::vector<BitRun>& runs) {
  size_t n = 0;
  for (const BitRun& r : runs) n += r.count;
  return n;
}

// The runs' length in bits; throws for a width outside 2..8.
size_t stream_bits(const std::vector<BitRun>& runs) {
  size_t n = 0;
  for (const BitRun& r : runs) {
    check_bits(r.bits);
    n += r.count * static_cast<size_t>(r.bits);
  }
  return n;
}

std::string describe(const std::vector<BitRun>& runs) {
  std::vector<std::string> parts;
  parts.reserve(runs.size());
  for (const BitRun& r : runs) parts.push_back(fmt::format("{} {}-bit values", r.count, r.bits));
  return fmt::format("{}", fmt::join(parts, " + "));
}

}  // namespace

size_t packed_bytes(size_t count, int bits) { return (count * static_cast<size_t>(bits) + 7) / 8; }

size_t packed_bytes(const std::vector<BitRun>& runs) { return (stream_bits(runs) + 7) / 8; }

std::vector<uint8_t> pack_bits(const std::vector<int32_t>& values, int bits) {
  return pack_bits(values, {{values.size(), bits}});
}

std::vector<uint8_t> pack_bits(const std::vector<int32_t>& values, const std::vector<BitRun>& runs) {
  if (run_values(runs) != values.size()) {
    throw Error(fmt::format("bit runs of {} values do not hold {} values", run_values(runs), values.size()));
  }
  std::vector<uint8_t> out(packed_bytes(runs), 0);
  size_t bit = 0, i = 0;
  for (const BitRun& run : runs) {
    const int32_t qmax = offset(run.bits) - 1;
    for (size_t end = i + run.count; i < end; ++i) {
      const int32_t v = values[i];
      if (v < -qmax || v > qmax)
        throw Error(fmt::format("{} does not fit {}-bit symmetric weights [-{}, {}]", v, run.bits, qmax, qmax));
      const uint32_t u = static_cast<uint32_t>(v + offset(run.bits)) << (bit % 8);  // at most 15 bits
      out[bit / 8] |= static_cast<uint8_t>(u & 0xff);
      if ((bit % 8) + static_cast<size_t>(run.bits) > 8) out[bit / 8 + 1] |= static_cast<uint8_t>(u >> 8);
      bit += static_cast<size_t>(run.bits);
    }
  }
  return out;
}

std::vector<int32_t> unpack_bits(const std::vector<uint8_t>& packed, int bits, size_t count) {
  return unpack_bits(packed, {{count, bits}});
}

std::vector<int32_t> unpack_bits(const std::vector<uint8_t>& packed, const std::vector<BitRun>& runs) {
  if (packed.size() != packed_bytes(runs)) {
    throw Error(fmt::format("{} packed bytes do not hold {} (expected {} bytes)", packed.size(), describe(runs),
                            packed_bytes(runs)));
  }
  std::vector<int32_t> out;
  out.reserve(run_values(runs));
  size_t bit = 0;
  for (const BitRun& run : runs) {
    const uint32_t mask = (uint32_t{1} << run.bits) - 1;
    for (size_t k = 0; k < run.count; ++k, bit += static_cast<size_t>(run.bits)) {
      const size_t byte = bit / 8;
      const uint32_t word = packed[byte] | (byte + 1 < packed.size() ? uint32_t{packed[byte + 1]} << 8 : 0u);
      const uint32_t u = (word >> (bit % 8)) & mask;
      if (u == 0) throw Error(fmt::format("packed {}-bit weight {} holds the unused code 0", run.bits, out.size()));
      out.push_back(static_cast<int32_t>(u) - offset(run.bits));
    }
  }
  return out;
}

std::string unpack_bits_script(const std::string& var, const std::string& packed, int bits, size_t count) {
  return unpack_bits_script(var, packed, {{count, bits}});
}

namespace {

// One run's statements: `unpack_at`, the stream bits start + k * bits of its values ...
std::string run_positions_script(const BitRun& run, size_t start) {
  return fmt::format("    unpack_at = torch.arange({}, dtype=torch.long) * {}{}\n", run.count, run.bits,
                     start ? fmt::format(" + {}", start) : "");
}

// ... and `var`, the values there, from `unpack_bytes`.
std::string run_values_script(const std::string& var, const BitRun& run) {
  return fmt::format(
      "    unpack_byte = torch.bitwise_right_shift(unpack_at, 3)\n"
      "    unpack_word = torch.bitwise_or(unpack_bytes[unpack_byte], "
      "torch.bitwise_left_shift(unpack_bytes[unpack_byte + 1], 8))\n"
      "    {} = (torch.bitwise_and(torch.bitwise_right_shift(unpack_word, torch.bitwise_and(unpack_at, 7)), {}) - "
      "{})"
      ".to(torch.int8)\n",
      var, (1 << run.bits) - 1, 1 << (run.bits - 1));
}

}  // namespace

std::string unpack_bits_script(const std::string& var, const std::string& packed, const std::vector<BitRun>& runs) {
  const std::string bytes =
      fmt::format("    unpack_bytes = torch.cat([{}, torch.zeros([1], dtype=torch.uint8)]).to(torch.long)\n", packed);
  if (runs.size() == 1) {  // in the order files have always had
    return run_positions_script(runs[0], 0) + bytes + run_values_script(var, runs[0]);
  }
  std::string out = bytes;
  std::vector<std::string> parts;
  size_t start = 0;
  for (const BitRun& run : runs) {
    parts.push_back(fmt::format("unpack_run{}", parts.size()));
    out += run_positions_script(run, start) + run_values_script(parts.back(), run);
    start += run.count * static_cast<size_t>(run.bits);
  }
  return out + fmt::format("    {} = torch.cat([{}])\n", var, fmt::join(parts, ", "));
}

}  // namespace resnet8
