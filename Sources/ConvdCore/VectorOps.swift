// VectorOps: element-wise loops written with SIMD types so they compile to branch-free vector
// code (a data-dependent branch per element mispredicts half the time on activations).

/// Branch-free element-wise helpers over raw buffers.
public enum VectorOps {
    /// `y[i] = x[i] < 0 ? 0 : x[i]` (x and y may be the same buffer).
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: v.replacing(with: 0, where: v .< 0), as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            y[i] = x[i] < 0 ? 0 : x[i]  // as the vector lanes: NaN and -0 pass through
            i += 1
        }
    }

    /// `g[i] = reference[i] > 0 ? g[i] : slope·g[i]` (ReLU with slope 0, leaky ReLU otherwise).
    public static func rectifierGradient(_ g: UnsafeMutablePointer<Float>, reference: UnsafePointer<Float>,
                                         slope: Float, count: Int) {
        rectifierGradient(g, reference: reference, slope: slope, into: g, count: count)
    }

    /// `out[i] = reference[i] > 0 ? g[i] : slope·g[i]` (`out` may be `g`).
    public static func rectifierGradient(_ g: UnsafePointer<Float>, reference: UnsafePointer<Float>, slope: Float,
                                         into out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let r = UnsafeRawPointer(reference + i).loadUnaligned(as: SIMD16<Float>.self)
            let v = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: v.replacing(with: v * slope, where: r .<= 0),
                                                        as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            out[i] = reference[i] <= 0 ? g[i] * slope : g[i]
            i += 1
        }
    }

    /// `y[i] = a[i] + b[i]` (`y` may be `a` or `b`).
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                           count: Int) {
        var i = 0
        while i + 16 <= count {
            let u = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
            let v = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: u + v, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            y[i] = a[i] + b[i]
            i += 1
        }
    }

    /// Σ x[i], in 16 Float lanes per block of 1,024 elements and a Double total across blocks
    /// (exact enough for batch statistics over millions of values, and vector code).
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        blockSums(count) { i in UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) } tail: { x[$0] }
    }

    /// Σ (x[i] − mean)², as `sum`.
    public static func squaredDeviations(_ x: UnsafePointer<Float>, mean: Float, count: Int) -> Double {
        let m = SIMD16<Float>(repeating: mean)
        return blockSums(count) { i in
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) - m
            return d * d
        } tail: { i in (x[i] - mean) * (x[i] - mean) }
    }

    /// Σ a[i]·b[i], as `sum`.
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
        blockSums(count) { i in
            UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
                * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
        } tail: { a[$0] * b[$0] }
    }

    /// Σ over 0..<count of the terms `vector` gives 16 at a time from index i and `tail` one at
    /// a time past the last whole vector.
    @inline(__always)
    private static func blockSums(_ count: Int, _ vector: (Int) -> SIMD16<Float>, tail: (Int) -> Float) -> Double {
        var total = 0.0
        var start = 0
        while start < count {
            let end = min(start + 1024, count)
            var lanes = SIMD16<Float>(repeating: 0)
            var i = start
            while i + 16 <= end {
                lanes += vector(i)
                i += 16
            }
            var rest: Float = 0
            while i < end {
                rest += tail(i)
                i += 1
            }
            total += Double(lanes.sum() + rest)
            start = end
        }
        return total
    }
}
