#include <resnet8/support/allocator.h>

// <cstdlib> pulls in the C library's <features.h>, which defines __GLIBC__ on glibc; testing it
// before any libc header is included would always be false.
#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace resnet8 {

bool keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  // Serve large blocks from the heap, not fresh mappings, and do not hand the heap top back.
  return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024) == 1;
#else
  return false;
#endif
}

}  // namespace resnet8
