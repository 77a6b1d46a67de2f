#pragma once
// The C kernels' sources (include/resnet8/micro/*.h, src/micro/*.c) as the library was built with them,
// embedded at build time by cmake/embed_files.cmake, so that the C code generator emits them unchanged.
#include <cstddef>
#include <string_view>

namespace resnet8::detail {

struct EmbeddedFile {
  const char* name;  // "r8_conv.c"
  std::string_view text;
};

extern const EmbeddedFile kMicroSources[];
extern const size_t kMicroSourceCount;

}  // namespace resnet8::detail
