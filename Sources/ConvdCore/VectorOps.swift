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
        var i = 0
        while i + 16 <= count {
            let r = UnsafeRawPointer(reference + i).loadUnaligned(as: SIMD16<Float>.self)
            let v = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(g + i).storeBytes(of: v.replacing(with: v * slope, where: r .<= 0),
                                                      as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            if reference[i] <= 0 { g[i] *= slope }
            i += 1
        }
    }
}
