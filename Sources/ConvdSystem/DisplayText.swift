// DisplayText: the one escaping of text that reaches a log line, an sd_notify datagram, a
// status line, an .error.txt or a terminal. Whoever writes into a watched folder chooses the
// names, and a name is free to hold a newline (a forged journald entry, `WATCHDOG=trigger` in
// a STATUS= datagram) or an escape sequence (the admin's terminal title, colours, clipboard).
// Every control character, DEL, C1 code, line/paragraph separator and bidirectional override
// is written as a visible escape; everything else, backslashes included, is kept as it is, so
// text that is already escaped (a PathKey) passes unchanged.

public enum DisplayText {
    /// `text` on one line with nothing a terminal or a line-based protocol would act on.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) { out += escape(scalar) } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// `text` escaped and cut to at most `limit` characters (with "…" where it was cut).
    public static func escaped(_ text: String, limit: Int) -> String {
        let line = escaped(text)
        return line.count <= limit ? line : String(line.prefix(max(0, limit - 1))) + "…"
    }

    /// Whether `scalar` must not reach a terminal or a line-based protocol as it is.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true        // C0, DEL, C1
        case 0x2028, 0x2029: return true                   // line and paragraph separators
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true  // bidi marks and overrides
        case 0xFEFF: return true                           // zero-width no-break space (BOM)
        default: return false
        }
    }

    /// `\n`, `\r`, `\t`, `\x1b` (below 0x80), `\u{85}` (above).
    static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default:
            let hex = String(scalar.value, radix: 16)
            return scalar.value < 0x80 ? "\\x" + (hex.count < 2 ? "0" : "") + hex : "\\u{\(hex)}"
        }
    }
}
