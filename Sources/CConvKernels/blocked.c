// blocked.c: convolution and fully connected kernels for ConvdNet's inference plan, on maps
// stored as blocks of 16 channels (NCHW16c: block, row, column, 16 lanes). Three builds of
// blocked_body.inc (AVX-512, AVX2+FMA, baseline) with the run-time choice of correlate.c's
// kind, plus the pooling and layout helpers around them, which are memory-bound and need no
// special build.
#include "cconvkernels.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

typedef float v16 __attribute__((vector_size(64), aligned(4)));
typedef int i16v __attribute__((vector_size(64), aligned(4)));

// Macros, not functions: a 64-byte vector passed to a function changes the ABI between the
// three builds. The vector type's 4-byte alignment makes the accesses valid at any float.
#define load16(p) (*(const v16 *)(p))
#define store16(p, v) (*(v16 *)(p) = (v))
// max(v, 0) with NaN kept, as Activation.relu (x < 0 ? 0 : x).
#define relu16(v) ((v16)((i16v)(v) & ~(i16v)((v) < 0)))
// Swift.max(x, y) per lane: y >= x ? y : x.
#define max16(x, y)                                                                                            \
    ({                                                                                                         \
        const v16 x_ = (x), y_ = (y);                                                                          \
        const i16v take_ = (i16v)(y_ >= x_);                                                                   \
        (v16)(((i16v)y_ & take_) | ((i16v)x_ & ~take_));                                                       \
    })
#define sum16(v)                                                                                               \
    ({                                                                                                         \
        const v16 s_ = (v);                                                                                    \
        float t_ = 0;                                                                                          \
        for (int i_ = 0; i_ < 16; i_++) t_ += s_[i_];                                                          \
        t_;                                                                                                    \
    })

#if defined(__x86_64__) || defined(__i386__)
#define FN_NAME blocked_avx512
#define FN_TARGET __attribute__((target("avx512f,avx2,fma")))
#define MAX_TILE1 14
#define MAX_TILE2 14
#include "blocked_body.inc"
#undef FN_NAME
#undef FN_TARGET
#undef MAX_TILE1
#undef MAX_TILE2

#define FN_NAME blocked_avx2
#define FN_TARGET __attribute__((target("avx2,fma")))
#define MAX_TILE1 6
#define MAX_TILE2 0
#include "blocked_body.inc"
#undef FN_NAME
#undef FN_TARGET
#undef MAX_TILE1
#undef MAX_TILE2
#endif

#define FN_NAME blocked_generic
#define FN_TARGET
#define MAX_TILE1 3
#define MAX_TILE2 0
#include "blocked_body.inc"
#undef FN_NAME
#undef FN_TARGET
#undef MAX_TILE1
#undef MAX_TILE2

typedef void (*conv_fn)(const convd_blocked_conv *);
typedef void (*dense_fn)(const float *, const float *, const float *, int, int, float *, int);

static int level(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

void convd_conv_blocked(const convd_blocked_conv *p) {
#if defined(__x86_64__) || defined(__i386__)
    static const conv_fn fns[3] = {blocked_generic_conv, blocked_avx2_conv, blocked_avx512_conv};
#else
    static const conv_fn fns[3] = {blocked_generic_conv, blocked_generic_conv, blocked_generic_conv};
#endif
    fns[level()](p);
}

void convd_dense(const float *weights, const float *bias, const float *input, int units, int inputs, float *output,
                 int relu) {
#if defined(__x86_64__) || defined(__i386__)
    static const dense_fn fns[3] = {blocked_generic_dense, blocked_avx2_dense, blocked_avx512_dense};
#else
    static const dense_fn fns[3] = {blocked_generic_dense, blocked_generic_dense, blocked_generic_dense};
#endif
    fns[level()](weights, bias, input, units, inputs, output, relu);
}

void convd_pool_blocked(const float *input, ptrdiff_t in_block_stride, ptrdiff_t in_row_stride, int blocks,
                        int out_h, int out_w, int size, int stride, int average, float *output,
                        ptrdiff_t out_block_stride, ptrdiff_t out_row_stride) {
    const float scale = 1.0f / (float)(size * size);
    for (int ob = 0; ob < blocks; ob++) {
        for (int y = 0; y < out_h; y++) {
            const float *top = input + ob * in_block_stride + (ptrdiff_t)y * stride * in_row_stride;
            float *out = output + ob * out_block_stride + (ptrdiff_t)y * out_row_stride;
            for (int x = 0; x < out_w; x++) {
                const float *w = top + (ptrdiff_t)x * stride * 16;
                v16 acc = load16(w);
                if (average) {
                    acc = (v16){0};
                    for (int a = 0; a < size; a++)
                        for (int b = 0; b < size; b++) acc += load16(w + a * in_row_stride + b * 16);
                    acc *= scale;
                } else if (size == 2) {
                    // Pooling.pool's 2×2 order, max(max(p0, p1), max(p2, p3)), with Swift.max's
                    // rule max(x, y) = y >= x ? y : x: the same value for NaN and signed zeros.
                    const v16 ab = max16(load16(w), load16(w + 16));
                    const v16 cd = max16(load16(w + in_row_stride), load16(w + in_row_stride + 16));
                    acc = max16(ab, cd);
                } else {
                    // Pooling.pool's order for other windows: the first sample, then every sample.
                    for (int a = 0; a < size; a++)
                        for (int b = 0; b < size; b++) acc = max16(acc, load16(w + a * in_row_stride + b * 16));
                }
                store16(out + x * 16, acc);
            }
        }
    }
}

// Pixel by pixel, the 16 lanes of a block together: each output line is written once while
// the 16 planes are read as 16 sequential streams (and the reverse for unpacking).
void convd_pack_blocked(const float *planes, ptrdiff_t plane_stride, int channels, int height, int width,
                        float *output, ptrdiff_t out_block_stride, ptrdiff_t out_row_stride) {
    for (int c0 = 0; c0 < channels; c0 += 16) {
        const int lanes = channels - c0 < 16 ? channels - c0 : 16;
        for (int y = 0; y < height; y++) {
            const float *src = planes + c0 * plane_stride + (ptrdiff_t)y * width;
            float *row = output + (c0 / 16) * out_block_stride + (ptrdiff_t)y * out_row_stride;
            for (int x = 0; x < width; x++)
                for (int l = 0; l < lanes; l++) row[x * 16 + l] = src[l * plane_stride + x];
        }
    }
}

void convd_unpack_blocked(const float *input, ptrdiff_t in_block_stride, ptrdiff_t in_row_stride, int channels,
                          int height, int width, float *planes, ptrdiff_t plane_stride) {
    for (int c0 = 0; c0 < channels; c0 += 16) {
        const int lanes = channels - c0 < 16 ? channels - c0 : 16;
        for (int y = 0; y < height; y++) {
            const float *row = input + (c0 / 16) * in_block_stride + (ptrdiff_t)y * in_row_stride;
            float *dst = planes + c0 * plane_stride + (ptrdiff_t)y * width;
            for (int x = 0; x < width; x++)
                for (int l = 0; l < lanes; l++) dst[l * plane_stride + x] = row[x * 16 + l];
        }
    }
}
