// depthwise.c: the window kernels of imported ONNX graphs, built for AVX-512, AVX2 and
// baseline (target_clones). On planar maps, one channel of a depthwise convolution (ONNX Conv
// with one input and one output channel per group) and of max or sum pooling: per output row
// and tap, the columns whose tap lands inside the input are a run, so the inner loop has no
// bounds test (and, at stride 1, reads contiguously: it vectorises). On blocked maps (16
// channels a pixel), depthwise convolution and max pooling, one 16-lane vector per tap.
#include "cconvkernels.h"

#if defined(__x86_64__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

static inline int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Output row `oy` tap by tap: per tap, the run of columns that lands inside the input.
static inline __attribute__((always_inline)) void depthwise_row(
    const float *restrict in, int height, int width, const float *restrict k, int kernel_h, int kernel_w,
    int stride_y, int stride_x, int dilation_y, int dilation_x, int pad_top, int pad_left, float bias,
    float *restrict row, int oy, int out_w) {
    for (int ox = 0; ox < out_w; ox++) row[ox] = bias;
    for (int a = 0; a < kernel_h; a++) {
        const int iy = oy * stride_y - pad_top + a * dilation_y;
        if (iy < 0 || iy >= height) continue;
        const float *restrict line = in + (ptrdiff_t)iy * width;
        for (int b = 0; b < kernel_w; b++) {
            const int shift = b * dilation_x - pad_left;  // ix = ox*stride_x + shift
            int lo = shift >= 0 ? 0 : floor_div(-shift + stride_x - 1, stride_x);
            int hi = floor_div(width - 1 - shift, stride_x) + 1;
            if (hi > out_w) hi = out_w;
            if (lo >= hi) continue;
            const float w = k[a * kernel_w + b];
            if (stride_x == 1) {
                const float *restrict src = line + shift;
                for (int ox = lo; ox < hi; ox++) row[ox] += w * src[ox];
            } else {
                for (int ox = lo; ox < hi; ox++) row[ox] += w * line[ox * stride_x + shift];
            }
        }
    }
}

// One output of a 3×3 window whose top-left input column is x0 (rows line, +width, +2·width).
static inline float edge3x3(const float *line, int width, const float *k, int x0, float bias) {
    float sum = bias;
    for (int a = 0; a < 3; a++) {
        for (int b = 0; b < 3; b++) {
            if (x0 + b >= 0 && x0 + b < width) sum += k[a * 3 + b] * line[(ptrdiff_t)a * width + x0 + b];
        }
    }
    return sum;
}

CLONES void convd_depthwise_plane(const float *restrict in, int height, int width, const float *restrict k,
                                  int kernel_h, int kernel_w, int stride_y, int stride_x, int dilation_y,
                                  int dilation_x, int pad_top, int pad_left, float bias, float *restrict out,
                                  int out_h, int out_w) {
    // 3×3, undilated (MobileNets' depthwise layers): where all nine taps are inside the input,
    // the nine products are summed in registers and the row is stored once.
    const int fused = kernel_h == 3 && kernel_w == 3 && dilation_x == 1 && dilation_y == 1;
    for (int oy = 0; oy < out_h; oy++) {
        float *restrict row = out + (ptrdiff_t)oy * out_w;
        const int iy = oy * stride_y - pad_top;
        // Columns whose taps ix = ox*stride_x - pad_left + {0, 1, 2} all lie in [0, width).
        int lo = pad_left > 0 ? (pad_left + stride_x - 1) / stride_x : 0;
        int hi = width - 3 + pad_left >= 0 ? (width - 3 + pad_left) / stride_x + 1 : 0;
        if (hi > out_w) hi = out_w;
        if (!fused || iy < 0 || iy + 2 >= height || lo >= hi) {
            depthwise_row(in, height, width, k, kernel_h, kernel_w, stride_y, stride_x, dilation_y, dilation_x,
                          pad_top, pad_left, bias, row, oy, out_w);
            continue;
        }
        // The few edge columns one at a time, taps outside the input skipped; the middle fused.
        const float *line = in + (ptrdiff_t)iy * width;
        for (int ox = 0; ox < lo; ox++) row[ox] = edge3x3(line, width, k, ox * stride_x - pad_left, bias);
        for (int ox = hi; ox < out_w; ox++) row[ox] = edge3x3(line, width, k, ox * stride_x - pad_left, bias);
        const float *r0 = line, *r1 = r0 + width, *r2 = r1 + width;
        const float k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4], k5 = k[5], k6 = k[6], k7 = k[7], k8 = k[8];
        if (stride_x == 1) {
            for (int ox = lo; ox < hi; ox++) {
                const int x = ox - pad_left;
                row[ox] = bias + k0 * r0[x] + k1 * r0[x + 1] + k2 * r0[x + 2] + k3 * r1[x] + k4 * r1[x + 1] +
                          k5 * r1[x + 2] + k6 * r2[x] + k7 * r2[x + 1] + k8 * r2[x + 2];
            }
        } else {
            for (int ox = lo; ox < hi; ox++) {
                const int x = ox * stride_x - pad_left;
                row[ox] = bias + k0 * r0[x] + k1 * r0[x + 1] + k2 * r0[x + 2] + k3 * r1[x] + k4 * r1[x + 1] +
                          k5 * r1[x + 2] + k6 * r2[x] + k7 * r2[x + 1] + k8 * r2[x + 2];
            }
        }
    }
}

CLONES void convd_pool_plane(const float *restrict in, int height, int width, int kernel_h, int kernel_w, int stride_y,
                             int stride_x, int dilation_y, int dilation_x, int pad_top, int pad_left, int average,
                             float *restrict out, int out_h, int out_w) {
    for (int oy = 0; oy < out_h; oy++) {
        float *restrict row = out + (ptrdiff_t)oy * out_w;
        const float start = average ? 0.0f : -__builtin_inff();
        for (int ox = 0; ox < out_w; ox++) row[ox] = start;
        for (int a = 0; a < kernel_h; a++) {
            const int iy = oy * stride_y - pad_top + a * dilation_y;
            if (iy < 0 || iy >= height) continue;
            const float *restrict line = in + (ptrdiff_t)iy * width;
            for (int b = 0; b < kernel_w; b++) {
                const int shift = b * dilation_x - pad_left;
                int lo = shift >= 0 ? 0 : floor_div(-shift + stride_x - 1, stride_x);
                int hi = floor_div(width - 1 - shift, stride_x) + 1;
                if (hi > out_w) hi = out_w;
                if (lo >= hi) continue;
                if (average) {
                    for (int ox = lo; ox < hi; ox++) row[ox] += line[ox * stride_x + shift];
                } else {
                    // Swift.max(x, v): v >= x ? v : x, so a NaN sample is kept only when first.
                    for (int ox = lo; ox < hi; ox++) {
                        const float v = line[ox * stride_x + shift];
                        row[ox] = v >= row[ox] ? v : row[ox];
                    }
                }
            }
        }
    }
}

// Four outputs of one blocked row, columns ox .. ox+3, every tap inside the input (top-left
// input pixel iy0, ix0 of the first): four independent accumulator chains, where one output at
// a time waits on each multiply-add of the last, and each tap's weights loaded once for the
// four. The sums run in the same order as the one-output loop: the same results.
static inline __attribute__((always_inline)) void depthwise_blocked_four(
    const float *restrict ib, int width, const float *restrict kb, const float *restrict bias16, int kernel_h,
    int kernel_w, int stride_x, int dilation_y, int dilation_x, int iy0, int ix0, float *restrict o, int relu,
    int clamp, float high) {
    float acc[4][16];
    for (int p = 0; p < 4; p++) {
        for (int l = 0; l < 16; l++) acc[p][l] = bias16[l];
    }
    for (int a = 0; a < kernel_h; a++) {
        const float *restrict line = ib + (ptrdiff_t)(iy0 + a * dilation_y) * width * 16;
        for (int t = 0; t < kernel_w; t++) {
            const float *restrict w = kb + (a * kernel_w + t) * 16;
            const float *restrict px = line + (ptrdiff_t)(ix0 + t * dilation_x) * 16;
            for (int p = 0; p < 4; p++) {
                for (int l = 0; l < 16; l++) acc[p][l] += w[l] * px[(ptrdiff_t)p * stride_x * 16 + l];
            }
        }
    }
    for (int p = 0; p < 4; p++) {
        for (int l = 0; l < 16; l++) {
            float v = acc[p][l];
            if (relu && v < 0) v = 0;
            if (clamp && !(v <= high)) v = high;
            o[p * 16 + l] = v;
        }
    }
}

CLONES void convd_depthwise_blocked(const float *restrict in, ptrdiff_t in_block_stride, int height, int width,
                                    const float *restrict k, const float *restrict bias, int kernel_h, int kernel_w,
                                    int stride_y, int stride_x, int dilation_y, int dilation_x, int pad_top,
                                    int pad_left, float *restrict out, ptrdiff_t out_block_stride, int out_h,
                                    int out_w, int block_begin, int block_end, int relu, int clamp, float high) {
    const int taps = kernel_h * kernel_w;
    for (int b = block_begin; b < block_end; b++) {
        const float *restrict ib = in + b * in_block_stride;
        const float *restrict kb = k + (ptrdiff_t)b * taps * 16;
        float *restrict ob = out + b * out_block_stride;
        for (int oy = 0; oy < out_h; oy++) {
            // The columns whose taps all lie inside the input, on a row whose taps do too, go
            // four at a time; the rest (the edges) one at a time, taps outside skipped.
            const int iy0 = oy * stride_y - pad_top;
            int lo = 0, hi = 0;
            if (iy0 >= 0 && iy0 + (kernel_h - 1) * dilation_y < height) {
                lo = pad_left > 0 ? (pad_left + stride_x - 1) / stride_x : 0;
                const int last = width - 1 - (kernel_w - 1) * dilation_x + pad_left;
                hi = last >= 0 ? last / stride_x + 1 : 0;
                if (hi > out_w) hi = out_w;
                if (hi < lo) hi = lo;
            }
            // 3×3 (MobileNets, EfficientNets) with the window as constants: the taps unrolled.
            const int three = kernel_h == 3 && kernel_w == 3;
            for (int ox = lo; ox + 4 <= hi; ox += 4) {
                float *restrict o = ob + ((ptrdiff_t)oy * out_w + ox) * 16;
                if (three) {
                    depthwise_blocked_four(ib, width, kb, bias + b * 16, 3, 3, stride_x, dilation_y, dilation_x, iy0,
                                           ox * stride_x - pad_left, o, relu, clamp, high);
                } else {
                    depthwise_blocked_four(ib, width, kb, bias + b * 16, kernel_h, kernel_w, stride_x, dilation_y,
                                           dilation_x, iy0, ox * stride_x - pad_left, o, relu, clamp, high);
                }
            }
            const int four_end = lo + (hi - lo) / 4 * 4;
            for (int ox = 0; ox < out_w; ox++) {
                if (ox == lo && four_end > lo) {
                    ox = four_end - 1;
                    continue;
                }
                float acc[16];
                for (int l = 0; l < 16; l++) acc[l] = bias[b * 16 + l];
                for (int a = 0; a < kernel_h; a++) {
                    const int iy = oy * stride_y - pad_top + a * dilation_y;
                    if (iy < 0 || iy >= height) continue;
                    for (int t = 0; t < kernel_w; t++) {
                        const int ix = ox * stride_x - pad_left + t * dilation_x;
                        if (ix < 0 || ix >= width) continue;
                        const float *restrict px = ib + ((ptrdiff_t)iy * width + ix) * 16;
                        const float *restrict w = kb + (a * kernel_w + t) * 16;
                        for (int l = 0; l < 16; l++) acc[l] += w[l] * px[l];
                    }
                }
                float *restrict o = ob + ((ptrdiff_t)oy * out_w + ox) * 16;
                for (int l = 0; l < 16; l++) {
                    float v = acc[l];
                    if (relu && v < 0) v = 0;
                    if (clamp && !(v <= high)) v = high;
                    o[l] = v;
                }
            }
        }
    }
}

CLONES void convd_maxpool_blocked(const float *restrict in, ptrdiff_t in_block_stride, int height, int width,
                                  int kernel_h, int kernel_w, int stride_y, int stride_x, int dilation_y,
                                  int dilation_x, int pad_top, int pad_left, float *restrict out,
                                  ptrdiff_t out_block_stride, int out_h, int out_w, int block_begin, int block_end) {
    for (int b = block_begin; b < block_end; b++) {
        const float *restrict ib = in + b * in_block_stride;
        float *restrict ob = out + b * out_block_stride;
        for (int oy = 0; oy < out_h; oy++) {
            for (int ox = 0; ox < out_w; ox++) {
                float acc[16];
                for (int l = 0; l < 16; l++) acc[l] = -__builtin_inff();
                for (int a = 0; a < kernel_h; a++) {
                    const int iy = oy * stride_y - pad_top + a * dilation_y;
                    if (iy < 0 || iy >= height) continue;
                    for (int t = 0; t < kernel_w; t++) {
                        const int ix = ox * stride_x - pad_left + t * dilation_x;
                        if (ix < 0 || ix >= width) continue;
                        const float *restrict px = ib + ((ptrdiff_t)iy * width + ix) * 16;
                        // Swift.max(acc, v): v >= acc ? v : acc, as the planar pooling.
                        for (int l = 0; l < 16; l++) acc[l] = px[l] >= acc[l] ? px[l] : acc[l];
                    }
                }
                float *restrict o = ob + ((ptrdiff_t)oy * out_w + ox) * 16;
                for (int l = 0; l < 16; l++) o[l] = acc[l];
            }
        }
    }
}
