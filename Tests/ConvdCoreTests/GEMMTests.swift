// The one-row product (a matrix-vector product, for a last layer at batch 1) against the
// definition, for every transpose and with leading dimensions wider than the matrices.
import ConvdCore
import ConvdTestSupport
import Testing

@Suite("GEMM")
struct GEMMTests {
    @Test("a one-row product equals the definition for every transpose, alpha and beta",
          arguments: [false, true], [false, true])
    func oneRow(transposeA: Bool, transposeB: Bool) {
        var generator = SeededGenerator(seed: 21)
        let n = 37, k = 53
        // A is 1×K (K×1 stored, with a row stride of 3, when transposed); B is K×N or N×K, padded.
        let lda = transposeA ? 3 : k + 2, ldb = transposeB ? k + 5 : n + 5
        let a = (0..<(transposeA ? k * lda : lda)).map { _ in Float.random(in: -1...1, using: &generator) }
        let b = (0..<((transposeB ? n : k) * ldb)).map { _ in Float.random(in: -1...1, using: &generator) }
        let start = (0..<n).map { _ in Float.random(in: -1...1, using: &generator) }
        var c = start
        gemm(transposeA: transposeA, transposeB: transposeB, m: 1, n: n, k: k, alpha: 0.5, a: a, lda: lda,
             b: b, ldb: ldb, beta: 2, c: &c, ldc: n)
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let x = transposeA ? a[p * lda] : a[p]
                let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                sum += Double(x) * Double(y)
            }
            let expected = 0.5 * sum + 2 * Double(start[j])
            #expect(abs(Double(c[j]) - expected) <= 1e-5, "column \(j)")
        }
    }
}
