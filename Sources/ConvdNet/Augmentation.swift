// Augmentation: random horizontal flips and shifts of up to `maxShift` pixels (zero filled),
// drawn per sample from the trainer's seeded generator (AlexNet's translations and
// reflections, conv-semantics.md §7), and random erasing (Zhong et al. 2017: with probability
// ½, a rectangle of 2–25 % of the image, aspect 0.3–3.3, set to zero).
#if canImport(Glibc)
import Glibc
#endif

/// Which augmentations training applies.
public struct Augmentation: Sendable, Equatable {
    /// Mirror left-right with probability ½.
    public var flip: Bool
    /// Largest shift in each direction, in pixels (0 = none).
    public var maxShift: Int
    /// Random erasing.
    public var erase: Bool

    /// No augmentation.
    public static let none = Augmentation(flip: false, maxShift: 0)

    /// An augmentation.
    public init(flip: Bool, maxShift: Int, erase: Bool = false) {
        self.flip = flip
        self.maxShift = maxShift
        self.erase = erase
    }

    /// Parses `flip,shift,erase` (shift = up to 2 pixels, `shift:N` up to N); an empty string is none.
    public static func parse(_ list: String) -> Augmentation? {
        var result = Augmentation.none
        for word in list.split(separator: ",").map({ $0.trimmingSpaces() }) where !word.isEmpty {
            switch word {
            case "flip": result.flip = true
            case "erase": result.erase = true
            case "shift": result.maxShift = 2
            case "none": break
            default:
                guard word.hasPrefix("shift:"), let n = Int(word.dropFirst(6)), (0...8).contains(n) else { return nil }
                result.maxShift = n
            }
        }
        return result
    }

    /// Writes an augmented copy of one C×H×W sample into `out`.
    func apply(_ sample: ArraySlice<Float>, shape: SampleShape, into out: inout [Float], at offset: Int,
               random: inout SplitMix64) {
        let flipIt = flip && random.next() & 1 == 1
        let dy = maxShift > 0 ? Int(random.next() % UInt64(2 * maxShift + 1)) - maxShift : 0
        let dx = maxShift > 0 ? Int(random.next() % UInt64(2 * maxShift + 1)) - maxShift : 0
        let h = shape.height, w = shape.width, base = sample.startIndex
        for c in 0..<shape.channels {
            for y in 0..<h {
                let sy = y - dy
                for x in 0..<w {
                    var sx = x - dx
                    if flipIt { sx = w - 1 - sx }
                    let inside = sy >= 0 && sy < h && sx >= 0 && sx < w
                    out[offset + (c * h + y) * w + x] = inside ? sample[base + (c * h + sy) * w + sx] : 0
                }
            }
        }
        if erase { eraseRectangle(shape: shape, into: &out, at: offset, random: &random) }
    }

    /// Random erasing: with probability ½, zeroes one rectangle of 2–25 % of the area.
    private func eraseRectangle(shape: SampleShape, into out: inout [Float], at offset: Int, random: inout SplitMix64) {
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        guard uniform() < 0.5 else { return }
        let h = shape.height, w = shape.width
        let area = Double(h * w) * (0.02 + 0.23 * uniform())
        let aspect = exp(log(0.3) + (log(3.3) - log(0.3)) * uniform())
        let eh = min(h, max(1, Int((area * aspect).squareRoot().rounded())))
        let ew = min(w, max(1, Int((area / aspect).squareRoot().rounded())))
        let top = Int(uniform() * Double(h - eh + 1)), left = Int(uniform() * Double(w - ew + 1))
        for c in 0..<shape.channels {
            for y in top..<(top + eh) {
                for x in left..<(left + ew) { out[offset + (c * h + y) * w + x] = 0 }
            }
        }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
