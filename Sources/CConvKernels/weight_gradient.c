// weight_gradient.c: a convolution's weight gradient for one sample, on the blocked input the
// forward kernel reads (blocked.c's layout, zero border included), built for AVX-512, AVX2 and
// baseline (target_clones). Training's ∂W = ∂Y · colsᵀ without the unfolded input:
//   dw[tap][block][f][lane] += Σ_{oy,ox} dy[f/16][oy][ox][f%16] · x[block][oy·s + a·d][ox·s + b·d][lane]
// for tap (a, b), ∂Y blocked as well (no border). A tile is one block of 16 filters × one
// block of 16 channels: 16 accumulators stay in registers over every output pixel, and each
// pixel costs one vector load of the input and 16 FMAs whose ∂Y operand is a broadcast load.
#include "cconvkernels.h"

#if defined(__x86_64__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

typedef float v16 __attribute__((vector_size(64), aligned(4)));
#define load16(p) (*(const v16 *)(p))
#define store16(p, v) (*(v16 *)(p) = (v))

// `count` filters (16 when `full`, so the loops unroll) of one tap and block, over every pixel.
static inline __attribute__((always_inline)) void tile(const float *restrict x, ptrdiff_t row_stride,
                                                       ptrdiff_t pixel_step, const float *restrict dy,
                                                       int out_h, int out_w, int count, float *restrict dw,
                                                       const int full) {
    v16 acc[16];
    if (full) {
#pragma clang loop unroll(full)
        for (int t = 0; t < 16; t++) acc[t] = (v16){0};
    } else {
        for (int t = 0; t < count; t++) acc[t] = (v16){0};
    }
    for (int oy = 0; oy < out_h; oy++) {
        const float *xr = x + oy * row_stride;
        const float *g = dy + (ptrdiff_t)oy * out_w * 16;
        for (int ox = 0; ox < out_w; ox++, g += 16) {
            const v16 xv = load16(xr + ox * pixel_step);
            if (full) {
#pragma clang loop unroll(full)
                for (int t = 0; t < 16; t++) acc[t] += g[t] * xv;
            } else {
                for (int t = 0; t < count; t++) acc[t] += g[t] * xv;
            }
        }
    }
    for (int t = 0; t < count; t++) store16(dw + t * 16, load16(dw + t * 16) + acc[t]);
}

CLONES void convd_weight_gradient_blocked(const float *x, ptrdiff_t block_stride, ptrdiff_t row_stride, int blocks,
                                          int kernel, int stride, int dilation, const float *dy,
                                          ptrdiff_t dy_block_stride, int filters, int out_h, int out_w, float *dw) {
    const ptrdiff_t step_row = (ptrdiff_t)stride * row_stride, step_pixel = (ptrdiff_t)stride * 16;
    for (int a = 0; a < kernel; a++) {
        for (int b = 0; b < kernel; b++) {
            for (int block = 0; block < blocks; block++) {
                const float *xt = x + block * block_stride + (ptrdiff_t)a * dilation * row_stride
                                  + (ptrdiff_t)b * dilation * 16;
                float *d = dw + ((ptrdiff_t)(a * kernel + b) * blocks + block) * filters * 16;
                int f = 0;
                for (; f + 16 <= filters; f += 16)
                    tile(xt, step_row, step_pixel, dy + (f / 16) * dy_block_stride, out_h, out_w, 16, d + f * 16, 1);
                if (f < filters)
                    tile(xt, step_row, step_pixel, dy + (f / 16) * dy_block_stride, out_h, out_w, filters - f,
                         d + f * 16, 0);
            }
        }
    }
}
