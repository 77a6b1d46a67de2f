#pragma once
// A walk over a pickle's opcodes that checks every length field against the bytes that are left, and
// every memo index against the pickle's size, before LibTorch's unpickler sees it: the unpickler
// allocates what a length or an index claims (a fuzzed data.pkl asked for 26 GB) before it finds
// the data missing.
#include <cstddef>
#include <string>

namespace resnet8::detail {

// Returns "" when every opcode is known and every length fits, else what is wrong (and where).
std::string pickle_problem(const char* data, size_t size);

}  // namespace resnet8::detail
