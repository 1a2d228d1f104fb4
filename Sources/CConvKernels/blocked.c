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

// A 16×16 transpose in registers: four rounds that swap the off-diagonal b×b sub-blocks of
// every 2b×2b block (b = 8, 4, 2, 1). Lane j of row i ends as lane i of row j.
#define LO8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define HI8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define LO4 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define HI4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define LO2 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define HI2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define LO1 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define HI1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define SWAP_ROUND(r, b, LO, HI)                                                                               \
    for (int i_ = 0; i_ < 16; i_++) {                                                                          \
        if (i_ & (b)) continue;                                                                                \
        const v16 top_ = r[i_], bottom_ = r[i_ + (b)];                                                         \
        r[i_] = __builtin_shufflevector(top_, bottom_, LO);                                                    \
        r[i_ + (b)] = __builtin_shufflevector(top_, bottom_, HI);                                              \
    }

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

typedef void (*pack_fn)(const float *, ptrdiff_t, int, int, int, float *, ptrdiff_t, ptrdiff_t);
typedef void (*unpack_fn)(const float *, ptrdiff_t, ptrdiff_t, int, int, int, float *, ptrdiff_t);

void convd_pack_blocked(const float *planes, ptrdiff_t plane_stride, int channels, int height, int width,
                        float *output, ptrdiff_t out_block_stride, ptrdiff_t out_row_stride) {
#if defined(__x86_64__) || defined(__i386__)
    static const pack_fn fns[3] = {blocked_generic_pack, blocked_avx2_pack, blocked_avx512_pack};
#else
    static const pack_fn fns[3] = {blocked_generic_pack, blocked_generic_pack, blocked_generic_pack};
#endif
    fns[level()](planes, plane_stride, channels, height, width, output, out_block_stride, out_row_stride);
}

void convd_unpack_blocked(const float *input, ptrdiff_t in_block_stride, ptrdiff_t in_row_stride, int channels,
                          int height, int width, float *planes, ptrdiff_t plane_stride) {
#if defined(__x86_64__) || defined(__i386__)
    static const unpack_fn fns[3] = {blocked_generic_unpack, blocked_avx2_unpack, blocked_avx512_unpack};
#else
    static const unpack_fn fns[3] = {blocked_generic_unpack, blocked_generic_unpack, blocked_generic_unpack};
#endif
    fns[level()](input, in_block_stride, in_row_stride, channels, height, width, planes, plane_stride);
}
