// unfold.c: one tap's row of the unfolded input (im2col) with a zero border, for
// ConvdCore's unfoldTap: CNN maps are small, so the per-row work must be a few plain loops.
#include "cconvkernels.h"

void convd_unfold_tap_zero(const float *plane, int height, int width, int row_begin, int row_end, int out_w,
                           int stride_y, int stride_x, int offset_y, int offset_x, float *dst) {
    // Output columns [lo, hi) read inside the row: 0 <= ox*stride_x + offset_x < width.
    int lo = offset_x >= 0 ? 0 : (-offset_x + stride_x - 1) / stride_x;
    int hi = width - 1 - offset_x < 0 ? 0 : (width - 1 - offset_x) / stride_x + 1;
    if (lo > out_w) lo = out_w;
    if (hi > out_w) hi = out_w;
    if (hi < lo) hi = lo;
    for (int oy = row_begin; oy < row_end; oy++, dst += out_w) {
        const int iy = oy * stride_y + offset_y;
        if (iy < 0 || iy >= height) {
            for (int ox = 0; ox < out_w; ox++) dst[ox] = 0;
            continue;
        }
        const float *row = plane + (ptrdiff_t)iy * width;
        for (int ox = 0; ox < lo; ox++) dst[ox] = 0;
        if (stride_x == 1) {
            for (int ox = lo; ox < hi; ox++) dst[ox] = row[ox + offset_x];
        } else {
            for (int ox = lo; ox < hi; ox++) dst[ox] = row[(ptrdiff_t)ox * stride_x + offset_x];
        }
        for (int ox = hi; ox < out_w; ox++) dst[ox] = 0;
    }
}
