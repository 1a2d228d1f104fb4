// COpenBLAS: OpenBLAS's CBLAS interface (Debian's libopenblas-dev), used by ConvdCore/GEMM.swift only.
#include <cblas.h>

/// Stops OpenBLAS's own worker threads (exported by every OpenBLAS build with threading; its
/// fork handler calls it). They start again by themselves if more than one thread is asked for.
int blas_thread_shutdown_(void);
