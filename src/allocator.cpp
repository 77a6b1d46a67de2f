#include <resnet8/allocator.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace resnet8 {

void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);                   // serve large blocks from the heap, not fresh mappings
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);  // and do not hand the heap top back
#endif
}

}  // namespace resnet8
