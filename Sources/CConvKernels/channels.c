// channels.c: pixel-wise reductions over the planes of a C×H×W tensor (gray, 1×1 convolution,
// gradient magnitude). The pixels go in blocks that stay in L1 while every plane is added in,
// so the output is written once and each plane read once; the sums run in channel order from
// 0, as the reference definitions in ConvdCore do.
#include "cconvkernels.h"

#include <math.h>

// No fused multiply-add where the target has one (arm64): the sums round as ConvdCore's
// reference definitions do, step by step.
#pragma STDC FP_CONTRACT OFF

enum { BLOCK = 2048 };

// dst = Σ_c w_c · x_c, or with `magnitude` sqrt(Σ_c x_c²). Inlined into both callers, so each
// gets its own loop without the branch.
static inline __attribute__((always_inline)) void reduce(const float *src, ptrdiff_t plane, ptrdiff_t count,
                                                         int channels, const float *weights, int magnitude,
                                                         float *dst) {
    typedef float v4 __attribute__((vector_size(16), aligned(4)));
    for (ptrdiff_t start = 0; start < count; start += BLOCK) {
        const ptrdiff_t n = count - start < BLOCK ? count - start : BLOCK;
        float *out = dst + start;
        for (ptrdiff_t i = 0; i < n; i++) out[i] = 0.0f;
        for (int c = 0; c < channels; c++) {
            const float *in = src + (ptrdiff_t)c * plane + start;
            if (magnitude) {
                for (ptrdiff_t i = 0; i < n; i++) out[i] += in[i] * in[i];
            } else {
                const float w = weights[c];
                for (ptrdiff_t i = 0; i < n; i++) out[i] += w * in[i];
            }
        }
        if (!magnitude) continue;
        // sqrtf itself would not vectorise (it may set errno); the vector square root is the
        // same correctly rounded operation.
        ptrdiff_t i = 0;
        for (; i + 4 <= n; i += 4) *(v4 *)(out + i) = __builtin_elementwise_sqrt(*(const v4 *)(out + i));
        for (; i < n; i++) out[i] = sqrtf(out[i]);
    }
}

void convd_weighted_channel_sum(const float *src, ptrdiff_t plane, ptrdiff_t count, int channels,
                                const float *weights, float *dst) {
    reduce(src, plane, count, channels, weights, 0, dst);
}

void convd_channel_magnitude(const float *src, ptrdiff_t plane, ptrdiff_t count, int channels, float *dst) {
    reduce(src, plane, count, channels, NULL, 1, dst);
}
