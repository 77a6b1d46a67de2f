#pragma once
// glibc hands large freed blocks back to the kernel (blocks over the mmap threshold are unmapped,
// and the heap top is trimmed), so batched inference page-faults its activations in again on every
// batch, which costs more than half the throughput at large batches (docs/RESULTS.md, "Speed"). This keeps
// freed memory in the process for reuse (no mmap for large blocks, no trimming). It is
// process-wide; the resnet8 tools call it first thing, library users may call it the same way.
// Returns whether the settings took effect (false where the C library is not glibc: a no-op there).
namespace resnet8 {

bool keep_freed_memory_for_reuse();

}  // namespace resnet8
