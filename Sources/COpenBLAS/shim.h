// COpenBLAS: OpenBLAS's CBLAS interface (Debian's libopenblas-dev), used by ConvdCore/GEMM.swift only.
#include <cblas.h>

/// Stops OpenBLAS's own worker threads (exported by every OpenBLAS build with threading; its
/// fork handler calls it). Called once, before any GEMM (ConvdCore/GEMM.swift): a later
/// openblas_set_num_threads would start them again.
int blas_thread_shutdown_(void);
