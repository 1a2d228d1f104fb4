// Resizing for model inputs: area averaging when shrinking, bilinear when enlarging.
import ConvdCore
import Testing

@Suite("resize")
struct ResizeTests {
    @Test("halving averages 2×2 blocks exactly")
    func shrink() {
        let x = Tensor(rows: [[1, 3, 5, 7], [1, 3, 5, 7], [2, 2, 0, 0], [2, 2, 0, 0]])
        #expect(Resize.apply(x, height: 2, width: 2).rows() == [[2, 6], [2, 0]])
    }

    @Test("a non-integer shrink keeps the mean of a constant image and of a ramp's ends")
    func areaWeights() {
        let flat = Tensor(channels: 1, height: 7, width: 5, repeating: 0.5)
        #expect(Resize.apply(flat, height: 3, width: 2).scalars.allSatisfy { abs($0 - 0.5) < 1e-6 })
        let ramp = Tensor(rows: [[0, 1, 2]])
        let out = Resize.apply(ramp, height: 1, width: 2).scalars
        #expect(abs(out[0] - 0.5 / 1.5) < 1e-6 && abs(out[1] - 2.5 / 1.5) < 1e-6)
    }

    @Test("doubling interpolates between pixel centres")
    func enlarge() {
        let x = Tensor(rows: [[0, 4]])
        #expect(Resize.apply(x, height: 1, width: 4).scalars == [0, 1, 3, 4])
    }
}
