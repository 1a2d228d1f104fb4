// CConvKernels: the inner loop of ConvdCore's direct correlation path, written with vector
// extensions and compiled three times (AVX-512, AVX2+FMA, baseline SSE2); the widest one the
// CPU supports is chosen at run time. Padding, threading and every other decision stay in Swift.
#ifndef CCONVKERNELS_H
#define CCONVKERNELS_H

#include <stddef.h>

/// Stride-1 correlation of one plane over a region where every tap is inside the input:
///   out[y*out_stride + x] (+)= sum_{a<kh, b<kw} in[(y + a*dilation)*in_stride + x + b*dilation] * kernel[a*kw + b]
/// for 0 <= y < rows, 0 <= x < cols. With accumulate = 0 `out` is overwritten, else added to.
void convd_correlate_rows(const float *in, ptrdiff_t in_stride, float *out, ptrdiff_t out_stride,
                          int rows, int cols, const float *kernel, int kh, int kw, int dilation,
                          int accumulate);

/// The instruction set convd_correlate_rows uses on this CPU: "avx512f", "avx2+fma" or "sse2".
const char *convd_kernel_isa(void);

#endif
