#include <resnet8/formats/bit_pack.h>

#include <resnet8/support/error.h>

#include <fmt/format.h>

namespace resnet8 {
namespace {

void check_bits(int bits) {
  if (bits < 2 || bits > 8) throw Error(fmt::format("bit packing takes 2..8 bits, got {}", bits));
}

int32_t offset(int bits) { return int32_t{1} << (bits - 1); }

}  // namespace

size_t packed_bytes(size_t count, int bits) { return (count * static_cast<size_t>(bits) + 7) / 8; }

std::vector<uint8_t> pack_bits(const std::vector<int32_t>& values, int bits) {
  check_bits(bits);
  const int32_t qmax = offset(bits) - 1;
  std::vector<uint8_t> out(packed_bytes(values.size(), bits), 0);
  size_t bit = 0;
  for (const int32_t v : values) {
    if (v < -qmax || v > qmax)
      throw Error(fmt::format("{} does not fit {}-bit symmetric weights [-{}, {}]", v, bits, qmax, qmax));
    const uint32_t u = static_cast<uint32_t>(v + offset(bits)) << (bit % 8);  // at most 15 bits
    out[bit / 8] |= static_cast<uint8_t>(u & 0xff);
    if ((bit % 8) + static_cast<size_t>(bits) > 8) out[bit / 8 + 1] |= static_cast<uint8_t>(u >> 8);
    bit += static_cast<size_t>(bits);
  }
  return out;
}

std::vector<int32_t> unpack_bits(const std::vector<uint8_t>& packed, int bits, size_t count) {
  check_bits(bits);
  if (packed.size() != packed_bytes(count, bits)) {
    throw Error(fmt::format("{} packed bytes do not hold {} {}-bit values (expected {} bytes)", packed.size(), count,
                            bits, packed_bytes(count, bits)));
  }
  const uint32_t mask = (uint32_t{1} << bits) - 1;
  std::vector<int32_t> out(count);
  for (size_t i = 0, bit = 0; i < count; ++i, bit += static_cast<size_t>(bits)) {
    const size_t byte = bit / 8;
    const uint32_t word = packed[byte] | (byte + 1 < packed.size() ? uint32_t{packed[byte + 1]} << 8 : 0u);
    const uint32_t u = (word >> (bit % 8)) & mask;
    if (u == 0) throw Error(fmt::format("packed {}-bit weight {} holds the unused code 0", bits, i));
    out[i] = static_cast<int32_t>(u) - offset(bits);
  }
  return out;
}

std::string unpack_bits_script(const std::string& var, const std::string& packed, int bits, size_t count) {
  return fmt::format(
      "    unpack_at = torch.arange({2}, dtype=torch.long) * {1}\n"
      "    unpack_bytes = torch.cat([{0}, torch.zeros([1], dtype=torch.uint8)]).to(torch.long)\n"
      "    unpack_byte = torch.bitwise_right_shift(unpack_at, 3)\n"
      "    unpack_word = torch.bitwise_or(unpack_bytes[unpack_byte], "
      "torch.bitwise_left_shift(unpack_bytes[unpack_byte + 1], 8))\n"
      "    {3} = (torch.bitwise_and(torch.bitwise_right_shift(unpack_word, torch.bitwise_and(unpack_at, 7)), {4}) - "
      "{5})"
      ".to(torch.int8)\n",
      packed, bits, count, var, (1 << bits) - 1, 1 << (bits - 1));
}

}  // namespace resnet8
