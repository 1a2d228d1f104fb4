// CConvKernels: the inner loop of ConvdCore's direct correlation path, written with vector
// extensions and compiled three times (AVX-512, AVX2+FMA, baseline SSE2); the widest one the
// CPU supports is chosen at run time. Padding, threading and every other decision stay in Swift.
// Also the pixel-wise channel reductions (channels.c) and the huge-page advice for large
// output buffers (memory.c), and the blocked-channel convolution of ConvdNet's inference
// plan (blocked.c).
#ifndef CCONVKERNELS_H
#define CCONVKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Stride-1 correlation of one plane over a region where every tap is inside the input:
///   out[y*out_stride + x] (+)= sum_{a<kh, b<kw} in[(y + a*dilation)*in_stride + x + b*dilation] * kernel[a*kw + b]
/// for 0 <= y < rows, 0 <= x < cols. With accumulate = 0 `out` is overwritten, else added to.
/// With `stream` (see convd_correlate_streams; ignored when accumulating) the results may go
/// to memory with non-temporal stores instead of through the cache.
void convd_correlate_rows(const float *in, ptrdiff_t in_stride, float *out, ptrdiff_t out_stride,
                          int rows, int cols, const float *kernel, int kh, int kw, int dilation,
                          int accumulate, int stream);

/// Whether an output region is worth streaming: overwritten, at least 16 MiB (more than the
/// next step could find in the cache), and its first and last pages already in memory (an
/// output in use; a fresh one's pages come into the cache when the kernel zeroes them anyway).
int convd_correlate_streams(const float *out, ptrdiff_t out_stride, int rows, int cols, int accumulate);

/// dst[i] = 0 + w[0]·src[i] + w[1]·src[plane + i] + ... for 0 <= i < count, over `channels`
/// planes `plane` samples apart (count <= plane: a range of pixels, for one thread's share).
void convd_weighted_channel_sum(const float *src, ptrdiff_t plane, ptrdiff_t count, int channels,
                                const float *weights, float *dst);
/// dst[i] = sqrt(0 + src[i]² + src[plane + i]² + ...) for 0 <= i < count, as above.
void convd_channel_magnitude(const float *src, ptrdiff_t plane, ptrdiff_t count, int channels, float *dst);

/// Advises the kernel to back the whole 2 MiB pages inside [start, start + bytes) with huge
/// pages; call it before the first write. Does nothing for buffers under 4 MiB or off Linux.
void convd_prefer_huge_pages(void *start, size_t bytes);

/// Makes glibc's malloc keep freed blocks of up to `mmap_below` bytes in its heap for reuse
/// instead of unmapping each (their pages fault in and are zeroed again on the next use), and
/// up to `trim_above` bytes of free heap before it gives memory back (memory.c). Returns 1 when
/// both settings took.
int convd_keep_large_allocations(size_t mmap_below, size_t trim_above);

/// One convolution layer of ConvdNet's inference plan (blocked.c), on output maps stored as
/// blocks of 16 channels. Output (block ob, row y, column x, lane l) is written at
///   output[ob*out_block_stride + y*out_row_stride + x*16 + l]
///     = relu?(bias[ob*16 + l] + sum_{c, a, b} in(c, y*stride + a*dilation, x*stride + b*dilation)
///                                           * weights[((ob*channels + c)*kernel_h + a)*kernel_w + b)*16 + l])
/// for rows row_begin <= y < row_end, where in(c, r, q) is
///   input[(c / in_block)*in_block_stride + (c % in_block) + r*in_row_stride + q*in_pixel_stride]:
/// planar maps have in_block 1 and in_pixel_stride 1, blocked maps 16 and 16. `input` is the
/// top-left corner of the zero-padded input, so every tap read is inside the buffer.
typedef struct {
    const float *input;
    ptrdiff_t in_block_stride, in_row_stride, in_pixel_stride;
    int in_block, channels;
    int kernel_h, kernel_w, stride, dilation;
    const float *weights;
    const float *bias;
    float *output;
    ptrdiff_t out_block_stride, out_row_stride;
    int out_blocks, out_w, row_begin, row_end;
    /// Output channels: lanes past them in the last block are stored as 0 (not 0·x, which
    /// is NaN for an infinite input).
    int out_channels;
    int relu;
    /// With `clamp`, outputs above `high` are stored as `high` (ReLU6 with relu); 0 in
    /// ConvdNet's layers, which zero-initialise the struct.
    int clamp;
    float high;
} convd_blocked_conv;

void convd_conv_blocked(const convd_blocked_conv *p);

/// output[u] = relu?(bias[u] + sum_d weights[u*inputs + d] * input[d]) for u < units.
void convd_dense(const float *weights, const float *bias, const float *input, int units, int inputs, float *output,
                 int relu);

/// Max or average pooling (size×size windows, a stride, no padding) of `blocks` blocked maps:
/// output pixel (y, x) of a block from input pixels (y*stride + a, x*stride + b), a, b < size.
void convd_pool_blocked(const float *input, ptrdiff_t in_block_stride, ptrdiff_t in_row_stride, int blocks,
                        int out_h, int out_w, int size, int stride, int average, float *output,
                        ptrdiff_t out_block_stride, ptrdiff_t out_row_stride);

/// Planar height×width maps (channel c at planes + c*plane_stride) into blocked layout, and back.
void convd_pack_blocked(const float *planes, ptrdiff_t plane_stride, int channels, int height, int width,
                        float *output, ptrdiff_t out_block_stride, ptrdiff_t out_row_stride);
void convd_unpack_blocked(const float *input, ptrdiff_t in_block_stride, ptrdiff_t in_row_stride, int channels,
                          int height, int width, float *planes, ptrdiff_t plane_stride);

/// 2×2 max pooling of one height×width map with a stride, no padding (pool_argmax.c): output
/// (i, j) is Pooling.pool's maximum of the window at (i*stride, j*stride), and argmax[i*out_w + j]
/// the index in the map of the window's first sample equal to it (the top-left one for NaN).
void convd_maxpool2_argmax(const float *plane, int width, int stride, int out_h, int out_w, float *output,
                           int32_t *argmax);

/// One sample's convolution weight gradient (weight_gradient.c), added into
/// dw[tap][block][f][lane] (tap = a·kernel + b): Σ over the out_h×out_w outputs of
/// dy[(f/16)·dy_block_stride + (oy·out_w + ox)·16 + f%16] · x[block·block_stride
/// + (oy·stride + a·dilation)·row_stride + (ox·stride + b·dilation)·16 + lane]: x a blocked
/// map whose zero border is the padding, dy a blocked map without border.
void convd_weight_gradient_blocked(const float *x, ptrdiff_t block_stride, ptrdiff_t row_stride, int blocks,
                                   int kernel, int stride, int dilation, const float *dy,
                                   ptrdiff_t dy_block_stride, int filters, int out_h, int out_w, float *dw);

/// Output rows [row_begin, row_end) × out_w of one tap of the unfolded input (unfold.c):
/// dst[(oy - row_begin)*out_w + ox] = plane[iy*width + ix] with iy = oy*stride_y + offset_y,
/// ix = ox*stride_x + offset_x, or 0 where (iy, ix) lies outside the height×width plane.
void convd_unfold_tap_zero(const float *plane, int height, int width, int row_begin, int row_end, int out_w,
                           int stride_y, int stride_x, int offset_y, int offset_x, float *dst);

/// One channel of a depthwise convolution (depthwise.c): out (out_h×out_w) = bias + the
/// kernel_h×kernel_w correlation of the height×width plane `in` with `k`, with strides,
/// dilations and zero padding (pad_top, pad_left; the bottom and right follow from out_h, out_w).
void convd_depthwise_plane(const float *in, int height, int width, const float *k, int kernel_h, int kernel_w,
                           int stride_y, int stride_x, int dilation_y, int dilation_x, int pad_top, int pad_left,
                           float bias, float *out, int out_h, int out_w);

/// A depthwise convolution on blocked maps without a border (depthwise.c): blocks
/// [block_begin, block_end) of 16 channels, rows of width·16 floats; taps in the pads are
/// skipped; `k` the taps per block ([block][kernel_h][kernel_w][16]), `bias` [block][16];
/// output (block b, row y, column x, lane l) at out[b*out_block_stride + (y*out_w + x)*16 + l],
/// with ReLU and a clamp at `high` as the blocked convolution applies them.
void convd_depthwise_blocked(const float *in, ptrdiff_t in_block_stride, int height, int width, const float *k,
                             const float *bias, int kernel_h, int kernel_w, int stride_y, int stride_x,
                             int dilation_y, int dilation_x, int pad_top, int pad_left, float *out,
                             ptrdiff_t out_block_stride, int out_h, int out_w, int block_begin, int block_end,
                             int relu, int clamp, float high);

/// Max pooling on blocked maps without a border (depthwise.c): blocks [block_begin, block_end),
/// rows of width·16 floats; taps outside the height×width input (pads, ceil mode) are skipped.
void convd_maxpool_blocked(const float *in, ptrdiff_t in_block_stride, int height, int width, int kernel_h,
                           int kernel_w, int stride_y, int stride_x, int dilation_y, int dilation_x, int pad_top,
                           int pad_left, float *out, ptrdiff_t out_block_stride, int out_h, int out_w,
                           int block_begin, int block_end);

/// Max (or, with `average`, the sum) over each window of one height×width plane, the same
/// window geometry as convd_depthwise_plane; taps in the padding are skipped (an average's
/// divisor is the caller's).
void convd_pool_plane(const float *in, int height, int width, int kernel_h, int kernel_w, int stride_y, int stride_x,
                      int dilation_y, int dilation_x, int pad_top, int pad_left, int average, float *out, int out_h,
                      int out_w);

/// The instruction set convd_correlate_rows uses on this CPU: "avx512f", "avx2+fma" or "sse2".
const char *convd_kernel_isa(void);

/// A hint to the CPU inside a spin-wait loop (x86 `pause`): the waiting thread yields its
/// core's shared resources and leaves the loop sooner when the awaited store lands.
static inline void convd_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
