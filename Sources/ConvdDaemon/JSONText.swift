// JSONText: JSON objects written in a fixed key order (the classification log starts every
// line with "seq"), with strict string escaping, without Foundation's reordering.

import ConvdSystem

/// An ordered JSON object under construction.
struct JSONText {
    private var parts: [String] = []

    /// A JSON string literal for `s`.
    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where DisplayText.needsEscape(scalar):
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A number with up to `digits` decimals, no exponent for ordinary values.
    static func number(_ x: Double, digits: Int = 6) -> String {
        guard x.isFinite else { return "null" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (x * scale).rounded() / scale
        if rounded == rounded.rounded() && abs(rounded) < 1e15 { return String(Int64(rounded)) }
        return "\(rounded)"
    }

    mutating func add(_ key: String, raw: String) { parts.append(Self.string(key) + ":" + raw) }
    mutating func add(_ key: String, _ value: String?) { add(key, raw: value.map(Self.string) ?? "null") }
    mutating func add(_ key: String, _ value: Int64) { add(key, raw: String(value)) }
    mutating func add(_ key: String, _ value: Double?, digits: Int = 6) {
        add(key, raw: value.map { Self.number($0, digits: digits) } ?? "null")
    }

    /// `{...}` on one line.
    var text: String { "{" + parts.joined(separator: ",") + "}" }
}
