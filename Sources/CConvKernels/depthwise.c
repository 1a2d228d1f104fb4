// depthwise.c: one channel of a depthwise convolution (ONNX Conv with one input and one output
// channel per group), directly on a planar map: per output row and tap, the columns whose tap
// lands inside the input are a run, so the inner loop has no bounds test (and, at stride 1,
// reads contiguously: it vectorises). Built for AVX-512, AVX2 and baseline (target_clones).
#include "cconvkernels.h"

#if defined(__x86_64__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

static inline int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

CLONES void convd_depthwise_plane(const float *restrict in, int height, int width, const float *restrict k,
                                  int kernel_h, int kernel_w, int stride_y, int stride_x, int dilation_y,
                                  int dilation_x, int pad_top, int pad_left, float bias, float *restrict out,
                                  int out_h, int out_w) {
    for (int oy = 0; oy < out_h; oy++) {
        float *restrict row = out + (ptrdiff_t)oy * out_w;
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
}
