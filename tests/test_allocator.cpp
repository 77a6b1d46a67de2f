#include "testing.h"

#include <resnet8/support/allocator.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#if defined(__SANITIZE_ADDRESS__)
#define RESNET8_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RESNET8_ASAN 1
#endif
#endif

#ifdef RESNET8_ASAN
// scripts/sanitize.sh: AddressSanitizer replaces malloc, so glibc's mallopt settings cannot apply and
// the function must say so.
TEST_CASE("keep_freed_memory_for_reuse reports that it cannot apply under AddressSanitizer") {
  CHECK_FALSE(resnet8::keep_freed_memory_for_reuse());
}
#else
namespace {

int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  REQUIRE(statm);
  return resident * sysconf(_SC_PAGESIZE);
}

}  // namespace

TEST_CASE("keep_freed_memory_for_reuse: a freed 64 MiB block stays in the process for the next batch") {
  REQUIRE(resnet8::keep_freed_memory_for_reuse());  // glibc took both settings
  constexpr int64_t kBlock = int64_t{64} << 20;     // above glibc's largest mmap threshold (32 MiB)
  char* block = static_cast<char*>(std::malloc(kBlock));
  REQUIRE(block != nullptr);
  for (int64_t i = 0; i < kBlock; i += 4096) block[i] = 1;  // fault every page in
  asm volatile("" : : "r"(block) : "memory");               // keep the writes and the block
  const int64_t with_block = resident_bytes();
  std::free(block);
  const int64_t after_free = resident_bytes();
  INFO("resident before free ", with_block, " B, after ", after_free, " B");
  // Without the settings the block is mmapped and unmapped by free(): resident memory drops by 64 MiB.
  CHECK(with_block - after_free < kBlock / 4);
}
#endif
