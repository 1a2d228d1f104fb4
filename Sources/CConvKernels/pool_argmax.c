// pool_argmax.c: 2×2 max pooling that records each output's arg-max (Pooling+Argmax.swift),
// branch-free so the compiler vectorises it: which sample of a window holds the maximum is
// data, not a branch to predict.
#include "cconvkernels.h"

// One output row; `stride` is a constant in the stride-2 instantiation, so the loads
// de-interleave into vectors.
static inline __attribute__((always_inline)) void row2(const float *r0, const float *r1, int width, int stride,
                                                       int out_w, int32_t top, float *out, int32_t *at) {
    for (int j = 0; j < out_w; j++) {
        const float a = r0[j * stride], b = r0[j * stride + 1], c = r1[j * stride], d = r1[j * stride + 1];
        // Swift.max(x, y) is y >= x ? y : x: the same maximum as Pooling.pool, NaN included.
        const float ab = b >= a ? b : a, cd = d >= c ? d : c, best = cd >= ab ? cd : ab;
        int32_t offset = d == best ? width + 1 : 0;
        offset = c == best ? width : offset;
        offset = b == best ? 1 : offset;
        offset = a == best ? 0 : offset;
        out[j] = best;
        at[j] = top + j * stride + offset;
    }
}

void convd_maxpool2_argmax(const float *plane, int width, int stride, int out_h, int out_w, float *output,
                           int32_t *argmax) {
    for (int i = 0; i < out_h; i++) {
        const float *r0 = plane + (ptrdiff_t)i * stride * width, *r1 = r0 + width;
        float *out = output + (ptrdiff_t)i * out_w;
        int32_t *at = argmax + (ptrdiff_t)i * out_w;
        const int32_t top = i * stride * width;
        if (stride == 2)
            row2(r0, r1, width, 2, out_w, top, out, at);
        else
            row2(r0, r1, width, stride, out_w, top, out, at);
    }
}
