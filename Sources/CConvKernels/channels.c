// channels.c: pixel-wise reductions over the planes of a C×H×W tensor (gray, 1×1 convolution,
// gradient magnitude). The pixels go in blocks that stay in L1 while every plane is added in,
// so the output is written once and each plane read once; the sums run in channel order from
// 0, as the reference definitions in ConvdCore do. Each entry point is compiled for AVX-512,
// AVX2 and the baseline, and the loader picks the widest the CPU has (target_clones).
#include "cconvkernels.h"

#include <math.h>

// No fused multiply-add: the sums round as ConvdCore's reference definitions do, step by step.
#pragma STDC FP_CONTRACT OFF

enum { BLOCK = 2048 };

#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

// dst = 0 + Σ_c w_c · x_c, or with `magnitude` sqrt(0 + Σ_c x_c²). The first plane writes the
// block (0 + its term, so −0 becomes +0 as in the reference sum), the others add to it, and
// the last one also takes the square root: no pass of its own for the zero fill or the root.
// Inlined into both callers, so each gets its own loops without the branch.
static inline __attribute__((always_inline)) void reduce(const float *src, ptrdiff_t plane, ptrdiff_t count,
                                                         int channels, const float *weights, int magnitude,
                                                         float *dst) {
    for (ptrdiff_t start = 0; start < count; start += BLOCK) {
        const ptrdiff_t n = count - start < BLOCK ? count - start : BLOCK;
        float *out = dst + start;
        if (channels == 0) {
            for (ptrdiff_t i = 0; i < n; i++) out[i] = 0.0f;
            continue;
        }
        for (int c = 0; c < channels; c++) {
            const float *in = src + (ptrdiff_t)c * plane + start;
            const float w = magnitude ? 0.0f : weights[c];
            const int first = c == 0, root = magnitude && c == channels - 1;
            // sqrtf itself would not vectorise (it may set errno); the vector square root is the
            // same correctly rounded operation.
            if (first && root) {
                for (ptrdiff_t i = 0; i < n; i++) out[i] = __builtin_elementwise_sqrt(0.0f + in[i] * in[i]);
            } else if (root) {
                for (ptrdiff_t i = 0; i < n; i++) out[i] = __builtin_elementwise_sqrt(out[i] + in[i] * in[i]);
            } else if (first) {
                if (magnitude) {
                    for (ptrdiff_t i = 0; i < n; i++) out[i] = 0.0f + in[i] * in[i];
                } else {
                    for (ptrdiff_t i = 0; i < n; i++) out[i] = 0.0f + w * in[i];
                }
            } else if (magnitude) {
                for (ptrdiff_t i = 0; i < n; i++) out[i] += in[i] * in[i];
            } else {
                for (ptrdiff_t i = 0; i < n; i++) out[i] += w * in[i];
            }
        }
    }
}

CLONES void convd_weighted_channel_sum(const float *src, ptrdiff_t plane, ptrdiff_t count, int channels,
                                       const float *weights, float *dst) {
    reduce(src, plane, count, channels, weights, 0, dst);
}

CLONES void convd_channel_magnitude(const float *src, ptrdiff_t plane, ptrdiff_t count, int channels, float *dst) {
    reduce(src, plane, count, channels, NULL, 1, dst);
}
