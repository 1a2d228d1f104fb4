// Augmentation: random horizontal flips and shifts of up to `maxShift` pixels (zero filled),
// drawn per sample from the trainer's seeded generator (AlexNet's translations and
// reflections, conv-semantics.md §7).

/// Which augmentations training applies.
public struct Augmentation: Sendable, Equatable {
    /// Mirror left-right with probability ½.
    public var flip: Bool
    /// Largest shift in each direction, in pixels (0 = none).
    public var maxShift: Int

    /// No augmentation.
    public static let none = Augmentation(flip: false, maxShift: 0)

    /// An augmentation.
    public init(flip: Bool, maxShift: Int) {
        self.flip = flip
        self.maxShift = maxShift
    }

    /// Parses `flip,shift` (shift = up to 2 pixels, `shift:N` up to N); an empty string is none.
    public static func parse(_ list: String) -> Augmentation? {
        var result = Augmentation.none
        for word in list.split(separator: ",").map({ $0.trimmingSpaces() }) where !word.isEmpty {
            switch word {
            case "flip": result.flip = true
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
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
