// CConvKernels: the inner loop of ConvdCore's direct correlation path, written with vector
// extensions and compiled three times (AVX-512, AVX2+FMA, baseline SSE2); the widest one the
// CPU supports is chosen at run time. Padding, threading and every other decision stay in Swift.
// Also the pixel-wise channel reductions (channels.c) and the huge-page advice for large
// output buffers (memory.c).
#ifndef CCONVKERNELS_H
#define CCONVKERNELS_H

#include <stddef.h>

/// Stride-1 correlation of one plane over a region where every tap is inside the input:
///   out[y*out_stride + x] (+)= sum_{a<kh, b<kw} in[(y + a*dilation)*in_stride + x + b*dilation] * kernel[a*kw + b]
/// for 0 <= y < rows, 0 <= x < cols. With accumulate = 0 `out` is overwritten, else added to.
void convd_correlate_rows(const float *in, ptrdiff_t in_stride, float *out, ptrdiff_t out_stride,
                          int rows, int cols, const float *kernel, int kh, int kw, int dilation,
                          int accumulate);

/// dst[i] = 0 + w[0]·src[i] + w[1]·src[plane + i] + ... over `channels` planes of `plane` samples.
void convd_weighted_channel_sum(const float *src, ptrdiff_t plane, int channels, const float *weights,
                                float *dst);

/// dst[i] = sqrt(0 + src[i]² + src[plane + i]² + ...) over `channels` planes of `plane` samples.
void convd_channel_magnitude(const float *src, ptrdiff_t plane, int channels, float *dst);

/// Advises the kernel to back the whole 2 MiB pages inside [start, start + bytes) with huge
/// pages; call it before the first write. Does nothing for buffers under 4 MiB or off Linux.
void convd_prefer_huge_pages(void *start, size_t bytes);

/// The instruction set convd_correlate_rows uses on this CPU: "avx512f", "avx2+fma" or "sse2".
const char *convd_kernel_isa(void);

#endif
