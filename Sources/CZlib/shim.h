// CZlib: zlib (Debian's zlib1g-dev, a dependency of libpng-dev), for gzipped IDX datasets.
#include <zlib.h>
