#pragma once
// N-bit weights stored N bits each: the int8 file's weight blob (int8_torchscript.h), for 2..8-bit plans.
//
// Layout, for symmetric `bits`-bit integers v in [-(2^(bits-1) - 1), 2^(bits-1) - 1]: each is stored
// as the unsigned u = v + 2^(bits-1) (1 .. 2^bits - 1) in a little-endian bit stream: value i takes
// stream bits [i * bits, (i + 1) * bits), and stream bit k is bit (k % 8) of byte k / 8. 4-bit weights
// are thus two per byte, low nibble first; 8-bit weights are one byte each. The last byte is padded
// with zero bits. No LibTorch types, so a loader outside LibTorch can read it too.
//
// A plan whose layers differ in width (the first and last layers of a low-bit plan at 7 bits) packs runs:
// each run's values at its own width, the runs one after another in the same stream, no padding between.
// One run is the layout above.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace resnet8 {

// `count` consecutive values of `bits` bits.
struct BitRun {
  size_t count = 0;
  int bits = 8;
};

// Bytes that `count` values of `bits` bits take; that the runs take.
size_t packed_bytes(size_t count, int bits);
size_t packed_bytes(const std::vector<BitRun>& runs);

// Throws resnet8::Error for bits outside 2..8 or a value outside the symmetric range.
std::vector<uint8_t> pack_bits(const std::vector<int32_t>& values, int bits);
// The same in runs; also throws when the runs do not count values.size() values.
std::vector<uint8_t> pack_bits(const std::vector<int32_t>& values, const std::vector<BitRun>& runs);

// The inverse. Throws resnet8::Error when `packed` is not exactly packed_bytes(count, bits) long, or
// holds the unused code 0 (which would be -2^(bits-1)).
std::vector<int32_t> unpack_bits(const std::vector<uint8_t>& packed, int bits, size_t count);
std::vector<int32_t> unpack_bits(const std::vector<uint8_t>& packed, const std::vector<BitRun>& runs);

// TorchScript statements (indented 4 spaces) that unpack the uint8 tensor expression `packed` into the
// int8 tensor `var` of `count` values: the same layout, for a module's __setstate__.
std::string unpack_bits_script(const std::string& var, const std::string& packed, int bits, size_t count);
// The same for runs: one run gives the statements above.
std::string unpack_bits_script(const std::string& var, const std::string& packed, const std::vector<BitRun>& runs);

}  // namespace resnet8
