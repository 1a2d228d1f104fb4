// COpenBLAS: OpenBLAS's CBLAS interface (Debian's libopenblas-dev), used by ConvdCore/GEMM.swift only.
#include <cblas.h>
