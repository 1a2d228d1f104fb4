// fuzz-cpng: the C shim alone (Sources/CPNG/cpng.c over libpng), built by scripts/fuzz with
// clang -fsanitize=fuzzer,address. Every input must be refused with a message or decode into
// exactly the buffer the header asked for; a decoded gray or RGB image is then encoded again
// and the encoding must decode to the same samples (the round trip the daemon's outputs make).
#include "cpng.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A tiny file may claim a 2^31-pixel image; allocate only what a test image plausibly needs
// (PNGCodec's own pixel limit sits above this shim and is fuzzed by fuzz-png).
enum { max_decoded_bytes = 1 << 24 };

static void must(int condition, const char *what) {
    if (!condition) {
        fprintf(stderr, "fuzz-cpng: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cpng_info info;
    char err[256];
    memset(err, 0, sizeof err);
    if (cpng_read_header(data, size, &info, err, sizeof err) != 0) {
        must(err[0] != 0, "a refusal without a message");
        return 0;
    }
    must(info.width > 0 && info.height > 0, "an empty image");
    must(info.channels >= 1 && info.channels <= 4, "channels");
    must(info.sample_bytes == 1 || info.sample_bytes == 2, "sample bytes");
    uint64_t bytes = (uint64_t)info.width * info.height * (uint64_t)info.channels * (uint64_t)info.sample_bytes;
    if (bytes > max_decoded_bytes) {
        return 0;
    }
    unsigned char *pixels = malloc(bytes ? bytes : 1);
    memset(err, 0, sizeof err);
    int status = cpng_decode(data, size, pixels, bytes, err, sizeof err);
    if (status != 0) {
        must(err[0] != 0, "a decode failure without a message");
        free(pixels);
        return 0;
    }
    // Decoded samples never exceed the colour maximum (gray, RGB) or the alpha maximum.
    if (info.sample_bytes == 1 && info.color_type != 3) {
        for (uint64_t i = 0; i < bytes; i++) {
            must(pixels[i] <= (info.color_max > info.alpha_max ? info.color_max : info.alpha_max), "sample range");
        }
    }
    if (info.channels == 1 || info.channels == 3) {
        cpng_encode_spec spec;
        memset(&spec, 0, sizeof spec);
        spec.width = info.width;
        spec.height = info.height;
        spec.color_type = info.channels == 1 ? 0 : 2;
        spec.bit_depth = info.sample_bytes == 1 ? 8 : 16;
        spec.compression_level = (int)(size % 10);
        unsigned char *encoded = NULL;
        size_t encoded_size = 0;
        size_t row_bytes = (size_t)info.width * info.channels * info.sample_bytes;
        must(cpng_encode(&spec, pixels, row_bytes, &encoded, &encoded_size, err, sizeof err) == 0, "re-encode");
        cpng_info again;
        must(cpng_read_header(encoded, encoded_size, &again, err, sizeof err) == 0, "re-read header");
        must(again.width == info.width && again.height == info.height && again.channels == info.channels
             && again.sample_bytes == info.sample_bytes, "re-read shape");
        unsigned char *round = malloc(bytes);
        must(cpng_decode(encoded, encoded_size, round, bytes, err, sizeof err) == 0, "re-decode");
        // 8-bit sources below 8 bits decode unpacked but not scaled, so they re-encode as 8-bit
        // with the same values; every sample must survive.
        must(memcmp(round, pixels, bytes) == 0, "round trip");
        free(round);
        cpng_free(encoded);
    }
    free(pixels);
    return 0;
}
