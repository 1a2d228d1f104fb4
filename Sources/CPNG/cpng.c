// cpng.c: libpng's classic read/write API with the setjmp kept here. Every local that is
// assigned after setjmp and used on the error path is volatile (ASan found the leak otherwise).
#include "cpng.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char png_signature_bytes[8] = {137, 80, 78, 71, 13, 10, 26, 10};

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t pos;
    char *err;
    size_t errlen;
} reader_state;

typedef struct {
    unsigned char *data;
    size_t size;
    size_t capacity;
    char *err;
    size_t errlen;
} writer_state;

static void set_error(char *err, size_t errlen, const char *message) {
    if (err && errlen > 0) {
        snprintf(err, errlen, "%s", message);
    }
}

static void on_error(png_structp png, png_const_charp message) {
    reader_state *state = (reader_state *)png_get_error_ptr(png);
    set_error(state->err, state->errlen, message);
    png_longjmp(png, 1);
}

static void on_write_error(png_structp png, png_const_charp message) {
    writer_state *state = (writer_state *)png_get_error_ptr(png);
    set_error(state->err, state->errlen, message);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static void read_from_memory(png_structp png, png_bytep out, size_t count) {
    reader_state *state = (reader_state *)png_get_io_ptr(png);
    if (count > state->size - state->pos) {
        png_error(png, "truncated (file ends before the image data does)");
    }
    memcpy(out, state->data + state->pos, count);
    state->pos += count;
}

/// Checks what libpng would otherwise report less clearly: empty files and bad signatures.
static int check_signature(const unsigned char *data, size_t size, char *err, size_t errlen) {
    if (size == 0) {
        set_error(err, errlen, "empty file (0 bytes)");
        return -1;
    }
    size_t n = size < 8 ? size : 8;
    if (memcmp(data, png_signature_bytes, n) != 0) {
        set_error(err, errlen, "not a PNG file (bad signature)");
        return -1;
    }
    if (size < 8) {
        set_error(err, errlen, "truncated (file ends inside the PNG signature)");
        return -1;
    }
    return 0;
}

/// Walks the chunk headers before libpng sees the data. libpng allocates (and zeroes) a
/// chunk's declared length before it reads the chunk, even when that length runs far past the
/// end of the file (audit #26: 57 bytes cost 1 GB), and its per-chunk limit only warns on
/// read. convd holds the whole file in memory, so a length that does not fit in what is left
/// is refused here, before any allocation.
static int check_chunks(const unsigned char *data, size_t size, char *err, size_t errlen) {
    size_t pos = 8;
    while (pos < size) {
        if (size - pos < 12) {
            set_error(err, errlen, "truncated (file ends before the image data does)");
            return -1;
        }
        const unsigned char *p = data + pos;
        uint32_t length = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
        if (length > 0x7fffffffu) {
            set_error(err, errlen, "a chunk declares a length over 2^31-1 bytes");
            return -1;
        }
        if ((size_t)length > size - pos - 12) {
            set_error(err, errlen, "truncated (file ends before the image data does)");
            return -1;
        }
        pos += 12 + (size_t)length;
        if (memcmp(p + 4, "IEND", 4) == 0) {
            break;
        }
    }
    return 0;
}

/// The chunks convd never uses. libpng skips a chunk it is told to discard in small pieces and
/// allocates nothing for it; kept, text and iCCP chunks are inflated and held in memory (audit
/// #3, #19: ≈8 MB and ≈67 ms of CPU per 8 KB zTXt chunk). Decoding needs only IHDR, PLTE,
/// tRNS, IDAT and IEND, and convd applies no gamma or colour profile, so nothing is lost.
static const png_byte ignored_chunks[] = "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0pCAL\0pHYs\0"
                                         "sBIT\0sCAL\0sPLT\0sRGB\0sTER\0tEXt\0tIME\0zTXt\0";

static void fill_info(png_structp png, png_infop info, cpng_info *out) {
    memset(out, 0, sizeof *out);
    out->width = png_get_image_width(png, info);
    out->height = png_get_image_height(png, info);
    out->bit_depth = png_get_bit_depth(png, info);
    out->color_type = png_get_color_type(png, info);
    out->interlaced = png_get_interlace_type(png, info) == PNG_INTERLACE_ADAM7;
    out->has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    int alpha = (out->color_type & PNG_COLOR_MASK_ALPHA) != 0 || out->has_trns;
    int colour = (out->color_type & PNG_COLOR_MASK_COLOR) != 0;
    out->channels = (colour ? 3 : 1) + (alpha ? 1 : 0);
    out->sample_bytes = out->bit_depth == 16 ? 2 : 1;
    out->color_max = out->color_type == PNG_COLOR_TYPE_PALETTE ? 255u : (1u << out->bit_depth) - 1u;
    out->alpha_max = out->color_max;  // alpha from tRNS is written on the colour samples' scale
}

/// Checks the signature and creates the read and info structs over `state`; the caller sets
/// its own setjmp before the first libpng call that can fail.
static int open_reader(reader_state *state, png_structp *png, png_infop *info) {
    if (check_signature(state->data, state->size, state->err, state->errlen) != 0 ||
        check_chunks(state->data, state->size, state->err, state->errlen) != 0) {
        return -1;
    }
    *png = png_create_read_struct(PNG_LIBPNG_VER_STRING, state, on_error, on_warning);
    *info = *png ? png_create_info_struct(*png) : NULL;
    if (!*info) {
        png_destroy_read_struct(png, NULL, NULL);
        set_error(state->err, state->errlen, "out of memory");
        return -1;
    }
    png_set_read_fn(*png, state, read_from_memory);
    // convd checks its own pixel limit with a clear message; let libpng pass any legal size.
    png_set_user_limits(*png, 0x7fffffff, 0x7fffffff);
    // Unknown ancillary chunks and the ones convd has no use for are skipped unread.
    png_set_keep_unknown_chunks(*png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(*png, PNG_HANDLE_CHUNK_NEVER, ignored_chunks,
                                (int)(sizeof ignored_chunks - 1) / 5);
    // What is still kept is bounded as well (on read these limits only warn, hence the above).
    png_set_chunk_cache_max(*png, 16);
    png_set_chunk_malloc_max(*png, 1u << 20);
#if defined(PNG_IGNORE_ADLER32)
    // Every compressed byte is already covered by its IDAT chunk's CRC, which libpng checks;
    // zlib's Adler-32 over the inflated stream (4 % of a decode) adds no protection to that.
    png_set_option(*png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#endif
    return 0;
}

int cpng_read_header(const unsigned char *data, size_t size, cpng_info *out, char *err, size_t errlen) {
    reader_state state = {data, size, 0, err, errlen};
    png_structp png;
    png_infop info;
    if (open_reader(&state, &png, &info) != 0) {
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_read_info(png, info);
    fill_info(png, info, out);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

/// The transparency and palette facts needed to expand one row.
typedef struct {
    cpng_info layout;
    int file_channels;
    png_colorp palette;
    int num_palette;
    png_bytep trans_alpha;
    int num_trans;
    png_color_16p trans_color;
} row_expander;

/// Copies a gray or RGB row of `type` samples, adding an alpha sample that is 0 where the
/// pixel equals the tRNS colour and alpha_max elsewhere (used by expand_row only).
#define ADD_TRNS_ALPHA(type)                                                                     \
    do {                                                                                         \
        const type *s0 = (const type *)src;                                                      \
        type *d0 = (type *)dst;                                                                  \
        for (size_t i = 0; i < width; i++) {                                                     \
            const type *s = s0 + i * (size_t)fc;                                                 \
            type *d = d0 + i * (size_t)l->channels;                                              \
            int transparent;                                                                     \
            if (fc == 1) {                                                                       \
                d[0] = s[0];                                                                     \
                transparent = s[0] == x->trans_color->gray;                                      \
            } else {                                                                             \
                d[0] = s[0];                                                                     \
                d[1] = s[1];                                                                     \
                d[2] = s[2];                                                                     \
                transparent = s[0] == x->trans_color->red && s[1] == x->trans_color->green &&    \
                              s[2] == x->trans_color->blue;                                      \
            }                                                                                    \
            d[fc] = transparent ? 0 : (type)l->alpha_max;                                        \
        }                                                                                        \
    } while (0)

/// Turns one row as libpng gives it (packing undone, 16-bit swapped to native) into the
/// decoded layout of cpng_decode.
static void expand_row(const row_expander *x, const unsigned char *src, unsigned char *dst) {
    const cpng_info *l = &x->layout;
    size_t width = l->width;
    if (l->color_type == PNG_COLOR_TYPE_PALETTE) {
        for (size_t i = 0; i < width; i++) {
            int index = src[i];
            unsigned char *p = dst + i * (size_t)l->channels;
            if (index < x->num_palette) {
                p[0] = x->palette[index].red;
                p[1] = x->palette[index].green;
                p[2] = x->palette[index].blue;
            } else {
                p[0] = p[1] = p[2] = 0;
            }
            if (l->channels == 4) {
                p[3] = index < x->num_trans ? x->trans_alpha[index] : 255;
            }
        }
        return;
    }
    if (!l->has_trns || (l->color_type & PNG_COLOR_MASK_ALPHA)) {
        memcpy(dst, src, width * (size_t)l->channels * (size_t)l->sample_bytes);
        return;
    }
    int fc = x->file_channels;
    if (l->sample_bytes == 1) {
        ADD_TRNS_ALPHA(unsigned char);
    } else {
        ADD_TRNS_ALPHA(uint16_t);
    }
}

int cpng_decode(const unsigned char *data, size_t size, void *out, size_t out_bytes, char *err, size_t errlen) {
    reader_state state = {data, size, 0, err, errlen};
    png_structp png;
    png_infop info;
    if (open_reader(&state, &png, &info) != 0) {
        return -1;
    }
    unsigned char *volatile raw = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(raw);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_read_info(png, info);
    row_expander x;
    memset(&x, 0, sizeof x);
    fill_info(png, info, &x.layout);
    const cpng_info *l = &x.layout;
    size_t out_row = (size_t)l->width * (size_t)l->channels * (size_t)l->sample_bytes;
    if (out_bytes != out_row * l->height) {
        png_error(png, "output buffer size does not match the image");
    }
    if (l->bit_depth < 8) {
        png_set_packing(png);
    }
    if (l->bit_depth == 16) {
        png_set_swap(png);  // to native (little-endian) order
    }
    if (l->color_type == PNG_COLOR_TYPE_PALETTE) {
        png_get_PLTE(png, info, &x.palette, &x.num_palette);
    }
    if (l->has_trns) {
        png_get_tRNS(png, info, &x.trans_alpha, &x.num_trans, &x.trans_color);
    }
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    x.file_channels = png_get_channels(png, info);
    size_t raw_row = png_get_rowbytes(png, info);
    int direct = l->color_type != PNG_COLOR_TYPE_PALETTE &&
                 (!l->has_trns || (l->color_type & PNG_COLOR_MASK_ALPHA));
    unsigned char *dst = (unsigned char *)out;
    if (direct) {
        // The file's layout is the decoded layout: let libpng write straight into `out`.
        rows = malloc(sizeof(png_bytep) * (l->height ? l->height : 1));
        if (!rows) png_error(png, "out of memory");
        for (uint32_t y = 0; y < l->height; y++) rows[y] = dst + y * out_row;
        png_read_image(png, rows);
    } else if (passes > 1) {
        raw = malloc(raw_row * (l->height ? l->height : 1));
        rows = malloc(sizeof(png_bytep) * (l->height ? l->height : 1));
        if (!raw || !rows) png_error(png, "out of memory");
        for (uint32_t y = 0; y < l->height; y++) rows[y] = raw + y * raw_row;
        png_read_image(png, rows);
        for (uint32_t y = 0; y < l->height; y++) expand_row(&x, rows[y], dst + y * out_row);
    } else {
        raw = malloc(raw_row ? raw_row : 1);
        if (!raw) png_error(png, "out of memory");
        for (uint32_t y = 0; y < l->height; y++) {
            png_read_row(png, raw, NULL);
            expand_row(&x, raw, dst + y * out_row);
        }
    }
    png_read_end(png, NULL);
    free(raw);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

static void write_to_memory(png_structp png, png_bytep bytes, size_t count) {
    writer_state *state = (writer_state *)png_get_io_ptr(png);
    if (count > state->capacity - state->size) {
        size_t capacity = state->capacity ? state->capacity : 65536;
        while (count > capacity - state->size) capacity *= 2;
        unsigned char *grown = realloc(state->data, capacity);
        if (!grown) png_error(png, "out of memory");
        state->data = grown;
        state->capacity = capacity;
    }
    memcpy(state->data + state->size, bytes, count);
    state->size += count;
}

static void flush_memory(png_structp png) {
    (void)png;
}

int cpng_encode(const cpng_encode_spec *spec, const void *pixels, size_t row_bytes,
                unsigned char **out, size_t *out_size, char *err, size_t errlen) {
    writer_state state = {NULL, 0, 0, err, errlen};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, on_write_error, on_warning);
    if (!png) {
        set_error(err, errlen, "out of memory");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        set_error(err, errlen, "out of memory");
        return -1;
    }
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(state.data);
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, &state, write_to_memory, flush_memory);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_set_compression_level(png, spec->compression_level);
    png_set_IHDR(png, info, spec->width, spec->height, spec->bit_depth, spec->color_type,
                 spec->interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (spec->color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color palette[256];
        for (int i = 0; i < spec->num_palette && i < 256; i++) {
            palette[i].red = spec->palette_rgb[3 * i];
            palette[i].green = spec->palette_rgb[3 * i + 1];
            palette[i].blue = spec->palette_rgb[3 * i + 2];
        }
        png_set_PLTE(png, info, palette, spec->num_palette);
        if (spec->num_trans > 0) {
            png_set_tRNS(png, info, spec->trans_alpha, spec->num_trans, NULL);
        }
    } else if (spec->has_trans_color) {
        png_color_16 colour;
        memset(&colour, 0, sizeof colour);
        colour.gray = spec->trans_gray;
        colour.red = spec->trans_red;
        colour.green = spec->trans_green;
        colour.blue = spec->trans_blue;
        png_set_tRNS(png, info, NULL, 0, &colour);
    }
    png_write_info(png, info);
    if (spec->bit_depth == 16) {
        png_set_swap(png);
    }
    rows = malloc(sizeof(png_bytep) * (spec->height ? spec->height : 1));
    if (!rows) png_error(png, "out of memory");
    for (uint32_t y = 0; y < spec->height; y++) {
        rows[y] = (png_bytep)pixels + y * row_bytes;
    }
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
    *out = state.data;
    *out_size = state.size;
    return 0;
}

void cpng_free(void *buffer) {
    free(buffer);
}
