// CPNG: a small C layer over libpng's classic API. Every setjmp/longjmp of libpng stays in
// cpng.c; the functions here report failure by return value and a message buffer, so no
// longjmp ever crosses a Swift frame. Decoding gives the file's raw samples (no gamma, no
// colour-space conversion, low bit depths unpacked but not scaled), which libpng's simplified
// png_image API cannot: it converts 16-bit data to linear light.
#ifndef CPNG_H
#define CPNG_H

#include <stddef.h>
#include <stdint.h>

/// What a PNG header says, and the layout cpng_decode will produce for it.
typedef struct {
    uint32_t width;
    uint32_t height;
    int bit_depth;       ///< bits per sample in the file: 1, 2, 4, 8 or 16
    int color_type;      ///< 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
    int interlaced;      ///< 1 for Adam7
    int has_trns;        ///< a tRNS chunk is present
    int channels;        ///< decoded samples per pixel: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
    int sample_bytes;    ///< 1 (uint8) or 2 (native-endian uint16) per decoded sample
    uint32_t color_max;  ///< the largest colour sample value: 2^bit_depth - 1 (255 for palette)
    uint32_t alpha_max;  ///< the value of an opaque alpha sample
} cpng_info;

/// Reads the signature and IHDR (and tRNS, PLTE) without decoding pixels.
/// Returns 0 on success; otherwise writes a one-line reason to `err` and returns -1.
int cpng_read_header(const unsigned char *data, size_t size, cpng_info *info, char *err, size_t errlen);

/// Decodes every pixel into `out`: interleaved samples, `info.channels` per pixel, row-major,
/// `info.sample_bytes` each. `out_bytes` must be width*height*channels*sample_bytes.
/// Palette images become RGB (RGBA with tRNS); gray and RGB images with tRNS gain an alpha
/// channel (0 where the sample equals the transparent colour). Adam7 is de-interlaced.
int cpng_decode(const unsigned char *data, size_t size, void *out, size_t out_bytes, char *err, size_t errlen);

/// What to write.
typedef struct {
    uint32_t width;
    uint32_t height;
    int color_type;           ///< as in cpng_info
    int bit_depth;            ///< 1, 2, 4, 8 or 16 (as the PNG spec allows for the colour type)
    int interlaced;           ///< write Adam7
    int compression_level;    ///< zlib level 0..9
    const unsigned char *palette_rgb;  ///< num_palette RGB triples, for color_type 3
    int num_palette;
    const unsigned char *trans_alpha;  ///< palette alpha values, for color_type 3
    int num_trans;
    int has_trans_color;      ///< write tRNS with the colour below (gray or RGB)
    uint16_t trans_gray, trans_red, trans_green, trans_blue;
} cpng_encode_spec;

/// Encodes `height` rows of `row_bytes` each, laid out as in a PNG row (low bit depths packed,
/// most significant bits first; 16-bit samples in native byte order). On success `*out` is a
/// malloc'd buffer of `*out_size` bytes that the caller releases with cpng_free.
int cpng_encode(const cpng_encode_spec *spec, const void *pixels, size_t row_bytes,
                unsigned char **out, size_t *out_size, char *err, size_t errlen);

/// Releases a buffer returned by cpng_encode.
void cpng_free(void *buffer);

#endif
