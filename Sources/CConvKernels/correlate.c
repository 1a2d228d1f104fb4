// correlate.c: three builds of the same loop (correlate_body.inc) and the run-time choice.
#include "cconvkernels.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

// FN_NAME pasted with a suffix (the helpers of each variant).
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#if defined(__x86_64__) || defined(__i386__)
#define FN_NAME correlate_avx512
#define FN_TARGET __attribute__((target("avx512f,avx2,fma")))
#define VW 16
#include "correlate_body.inc"
#undef FN_NAME
#undef FN_TARGET
#undef VW

#define FN_NAME correlate_avx2
#define FN_TARGET __attribute__((target("avx2,fma")))
#define VW 8
#include "correlate_body.inc"
#undef FN_NAME
#undef FN_TARGET
#undef VW
#endif

#define FN_NAME correlate_generic
#define FN_TARGET
#define VW 4
#include "correlate_body.inc"
#undef FN_NAME
#undef FN_TARGET
#undef VW

typedef void (*correlate_fn)(const float *, ptrdiff_t, float *, ptrdiff_t, int, int, const float *,
                             int, int, int, int, int);

// Outputs at least this large (bytes) may be written with non-temporal stores.
enum { STREAM_BYTES = 16 << 20 };

// Whether the pages holding `first` and `last` are already in memory. A fresh output's pages
// are zeroed by the kernel at the first touch, which brings each line into the cache anyway:
// streaming into them only adds traffic, so only an output already in use is streamed.
static int resident(const void *first, const void *last) {
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    unsigned char in_memory = 0;
    const void *ends[2] = {first, last};
    for (int i = 0; i < 2; i++) {
        void *start = (void *)((uintptr_t)ends[i] & ~(page - 1));
        if (mincore(start, page, &in_memory) != 0 || !(in_memory & 1)) return 0;
    }
    return 1;
}

static correlate_fn choose(const char **isa) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        *isa = "avx512f";
        return correlate_avx512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *isa = "avx2+fma";
        return correlate_avx2;
    }
    *isa = "sse2";
#else
    *isa = "generic";
#endif
    return correlate_generic;
}

void convd_correlate_rows(const float *in, ptrdiff_t in_stride, float *out, ptrdiff_t out_stride,
                          int rows, int cols, const float *kernel, int kh, int kw, int dilation,
                          int accumulate, int stream) {
    const char *isa;
    choose(&isa)(in, in_stride, out, out_stride, rows, cols, kernel, kh, kw, dilation, accumulate,
                 stream && !accumulate);
}

int convd_correlate_streams(const float *out, ptrdiff_t out_stride, int rows, int cols, int accumulate) {
    const int large = !accumulate && rows > 0 && cols > 0 && (double)rows * cols * sizeof(float) >= STREAM_BYTES;
    return large && resident(out, out + (ptrdiff_t)(rows - 1) * out_stride + cols - 1);
}

const char *convd_kernel_isa(void) {
    const char *isa;
    choose(&isa);
    return isa;
}
