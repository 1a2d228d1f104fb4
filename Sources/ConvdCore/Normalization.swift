// Normalization: the per-map rescalings to 0...1 that a chain can end with and that feature
// map pictures use.
//
// Values that are not finite (a chain with kernels of ~1e30 overflows to ±inf, and inf − inf
// gives NaN; security audit #23) never set the scale: `minmax` and `abs` take the range of the
// finite values only. Then +inf maps to 1 and −inf to 0 (`abs`: both to 1), and NaN to 0, so a
// map that is all NaN becomes zeros. `clip` clamps ±inf and sends NaN to 0 as well.

/// How feature maps are rescaled to 0...1 (for display, or as a chain step).
public enum Normalization: String, Sendable, CaseIterable {
    /// `(x - min) / (max - min)` per map over its finite values; a constant map becomes 0.
    case minmax
    /// `|x| / max|x|` per map over its finite values; an all-zero map stays 0.
    case abs
    /// `x` clamped to 0...1.
    case clip

    /// Rescales every channel of `input`.
    public func apply(_ input: Tensor) -> Tensor {
        var out = input
        let n = input.planeSize
        for c in 0..<input.channels {
            let range = (c * n)..<((c + 1) * n)
            switch self {
            case .minmax:
                var lo = Float.infinity, hi = -Float.infinity
                for v in out.scalars[range] where v.isFinite {
                    lo = Swift.min(lo, v)
                    hi = Swift.max(hi, v)
                }
                let span = hi - lo
                for i in range {
                    let v = out.scalars[i]
                    if !v.isFinite {
                        out.scalars[i] = v == .infinity ? 1 : 0
                    } else if !(span > 0) {
                        out.scalars[i] = 0
                    } else if span.isFinite {
                        out.scalars[i] = (v - lo) / span
                    } else {
                        // The finite range itself overflows Float (e.g. −3e38...3e38).
                        out.scalars[i] = Float((Double(v) - Double(lo)) / (Double(hi) - Double(lo)))
                    }
                }
            case .abs:
                var top: Float = 0
                for v in out.scalars[range] where v.isFinite { top = Swift.max(top, Swift.abs(v)) }
                for i in range {
                    let v = out.scalars[i]
                    if v.isNaN {
                        out.scalars[i] = 0
                    } else if v.isInfinite {
                        out.scalars[i] = 1
                    } else {
                        out.scalars[i] = top > 0 ? Swift.abs(v) / top : 0
                    }
                }
            case .clip:
                for i in range {
                    let v = out.scalars[i]
                    out.scalars[i] = v.isNaN ? 0 : Swift.min(Swift.max(v, 0), 1)
                }
            }
        }
        return out
    }
}
