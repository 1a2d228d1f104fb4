// PathKey: a file name or relative path, which on Linux is any bytes but NUL, as text that
// says exactly which bytes it names. Valid UTF-8 stays as it is, except that a backslash is
// doubled and anything DisplayText would escape is escaped the same way; a byte that is not
// part of valid UTF-8 becomes `\xNN`. The mapping is one-to-one, so the key is what the ledger
// stores and what logs show, and `bytes(of:)` gives back the name to open. Names are cut and
// joined as bytes, never by counting Characters (a "/" followed by a combining mark is one
// grapheme: audit #10).

public enum PathKey {
    /// The key of `bytes`.
    public static func key<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let raw = Array(bytes)
        // Fast path: printable UTF-8 without backslashes is its own key.
        if let text = String(validating: raw, as: UTF8.self),
           !text.unicodeScalars.contains(where: { $0 == "\\" || DisplayText.needsEscape($0) }) {
            return text
        }
        var out = ""
        var i = 0
        while i < raw.count {
            let length = sequenceLength(raw, at: i)
            if length == 0 {
                out += "\\x" + hexByte(raw[i])
                i += 1
                continue
            }
            // sequenceLength validated these bytes as one UTF-8 scalar.
            guard let scalar = String(decoding: raw[i..<(i + length)], as: UTF8.self).unicodeScalars.first else { break }
            if scalar == "\\" {
                out += "\\\\"
            } else if DisplayText.needsEscape(scalar) {
                out += DisplayText.escape(scalar)
            } else {
                out.unicodeScalars.append(scalar)
            }
            i += length
        }
        return out
    }

    /// The bytes a key names; nil for text that no key has (a lone backslash, a bad escape).
    public static func bytes(of key: String) -> [UInt8]? {
        guard key.utf8.contains(UInt8(ascii: "\\")) else { return Array(key.utf8) }
        var out: [UInt8] = []
        var scalars = key.unicodeScalars.makeIterator()
        while let s = scalars.next() {
            guard s == "\\" else {
                out += Array(String(s).utf8)
                continue
            }
            switch scalars.next() {
            case "\\": out.append(UInt8(ascii: "\\"))
            case "n": out.append(0x0A)
            case "r": out.append(0x0D)
            case "t": out.append(0x09)
            case "x":
                guard let a = scalars.next(), let b = scalars.next(), let v = UInt8(String([Character(a), Character(b)]), radix: 16)
                else { return nil }
                out.append(v)
            case "u":
                guard scalars.next() == "{" else { return nil }
                var hex = ""
                while let h = scalars.next(), h != "}" { hex.unicodeScalars.append(h) }
                guard let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else { return nil }
                out += Array(String(scalar).utf8)
            default:
                return nil
            }
        }
        return out
    }

    /// Whether the bytes are valid UTF-8 (a name the key shows without `\x` escapes).
    public static func isValidUTF8<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        String(validating: Array(bytes), as: UTF8.self) != nil
    }

    /// The length of the valid UTF-8 sequence at `i`, or 0 when the byte there starts none.
    private static func sequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let lead = b[i]
        let length: Int
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return 0
        }
        guard i + length <= b.count else { return 0 }
        return String(validating: b[i..<(i + length)], as: UTF8.self) != nil ? length : 0
    }

    private static func hexByte(_ v: UInt8) -> String {
        let hex = String(v, radix: 16)
        return hex.count < 2 ? "0" + hex : hex
    }
}
