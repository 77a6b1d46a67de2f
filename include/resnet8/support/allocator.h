#pragma once
// glibc hands large freed blocks back to the kernel (blocks over the mmap threshold are unmapped,
// and the heap top is trimmed), so batched inference page-faults its activations in again on every
// batch: measured here, fp32 at batch 1000 ran at ~3,500 instead of ~9,000 images/s. This keeps
// freed memory in the process for reuse (no mmap for large blocks, no trimming). It is
// process-wide; the resnet8 tools call it first thing, library users may call it the same way.
// Returns whether the settings took effect (false where the C library is not glibc: a no-op there).
namespace resnet8 {

bool keep_freed_memory_for_reuse();

}  // namespace resnet8
