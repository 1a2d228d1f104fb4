// GEMM: the one file that imports COpenBLAS. Row-major single-precision matrix product.
import COpenBLAS

/// `C = alpha · op(A) · op(B) + beta · C` for row-major matrices, where op(A) is M×K and op(B) is K×N.
public func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                 alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    useSingleThreadedGEMM()
    if m == 1 {
        // One row (a classifier's last layer at batch 1): a matrix-vector product. OpenBLAS's
        // sgemm would first copy all of B, the layer's whole weight matrix, into its packing.
        let x = Int32(transposeA ? lda : 1)
        if transposeB {  // B is N×K
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), alpha, b, Int32(ldb), a, x, beta, c, 1)
        } else {  // B is K×N
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), alpha, b, Int32(ldb), a, x, beta, c, 1)
        }
        return
    }
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Makes OpenBLAS single-threaded for the rest of the process, once: convd splits its GEMMs
/// over its own threads (`parallelGEMM`), and OpenBLAS's worker threads, started when the
/// library loads, spin on sched_yield for a while before they sleep, taking a core from
/// convd's. The first `gemm` does it, before any product has run, so no worker is ever busy
/// when they are stopped; a program calls it at start to stop them before its first GEMM.
public func useSingleThreadedGEMM() {
    _ = singleThreadedBLAS
}

private let singleThreadedBLAS: Void = {
    openblas_set_num_threads(1)
    _ = blas_thread_shutdown_()
}()

/// `gemm` with the columns of C split over `threads` chunks, each a single-threaded OpenBLAS
/// call on convd's own thread pool (so no second pool of spinning BLAS threads competes with
/// the layers' loops). Small products run in one call.
public func parallelGEMM(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                         alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                         beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
    let chunks = min(threads, n / 64)
    guard chunks > 1 && m * n * k >= 1 << 20 else {
        gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
             b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    let aShared = SharedReadPointer(a), bShared = SharedReadPointer(b), cShared = SharedPointer(c)
    parallelFor(chunks, threads: chunks) { range in
        for chunk in range {
            // Chunk boundaries on multiples of 16 columns keep the kernels' vector loads aligned.
            let n0 = (n * chunk / chunks) & ~15, n1 = chunk == chunks - 1 ? n : (n * (chunk + 1) / chunks) & ~15
            guard n1 > n0 else { continue }
            let bChunk = transposeB ? bShared.pointer + n0 * ldb : bShared.pointer + n0
            gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n1 - n0, k: k, alpha: alpha,
                 a: aShared.pointer, lda: lda, b: bChunk, ldb: ldb, beta: beta, c: cShared.pointer + n0, ldc: ldc)
        }
    }
}
