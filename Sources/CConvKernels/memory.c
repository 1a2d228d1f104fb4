// memory.c: asking Linux for transparent huge pages under a large buffer before its first write.
// A 64 MB output written for the first time takes 16,384 page faults with 4 KiB pages (≈30 ms
// on this machine, three times the 3×3 filter itself) and 32 with 2 MiB pages. Under the usual
// `transparent_hugepage=madvise` setting only ranges advised with MADV_HUGEPAGE get them
// (numpy does the same for its large arrays).
#include "cconvkernels.h"

#include <stdint.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void convd_prefer_huge_pages(void *start, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (bytes < 2 * huge) return;
    const uintptr_t first = ((uintptr_t)start + huge - 1) & ~(huge - 1);
    const uintptr_t end = ((uintptr_t)start + bytes) & ~(huge - 1);
    // Advice only: a kernel without THP, or a range it will not back, is left as it is.
    if (end > first) (void)madvise((void *)first, end - first, MADV_HUGEPAGE);
#else
    (void)start;
    (void)bytes;
#endif
}

int convd_keep_large_allocations(size_t mmap_below, size_t trim_above) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, (int)mmap_below) == 1 && mallopt(M_TRIM_THRESHOLD, (int)trim_above) == 1;
#else
    (void)mmap_below;
    (void)trim_above;
    return 0;
#endif
}
