// GEMM: the one file that imports COpenBLAS. Row-major single-precision matrix product.
import COpenBLAS

/// `C = alpha · op(A) · op(B) + beta · C` for row-major matrices, where op(A) is M×K and op(B) is K×N.
public func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                 alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Sets how many threads OpenBLAS uses for every following `gemm` in the process.
public func setGEMMThreads(_ threads: Int) {
    openblas_set_num_threads(Int32(max(1, threads)))
}
