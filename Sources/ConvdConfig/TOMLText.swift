// TOMLText: the one way config and architecture text reaches TOMLKit. A strict pre-scan first
// refuses the inputs that make toml++ (inside TOMLKit) stop the process on an assertion
// instead of reporting a parse error — toml++ is built with its assertions on, in release
// builds too (SwiftPM passes no -DNDEBUG; with NDEBUG they would become undefined behaviour).
// Found by fuzzing (Tests/Fuzz, `make fuzz`); each case has a regression test in
// Tests/ConvdConfigTests/TOMLTextTests.swift:
//
//   * a date-time whose time does not start with a digit, `a = 1979-05-27Txx:00`: toml++
//     classifies the value as a date-time and parse_time asserts that it starts with a digit
//     (also `1979-04-27T(07:32:00Z`). Every bare value — up to toml++'s value terminators —
//     that starts with a digit or sign and has a `:` in it must be a well-formed time or
//     date-time.
//   * a local date, a space and a digit that ends the value, `a = 1979-05-27 1`: toml++
//     reads it as a date-time with a space for the `T` and asserts that more follows. After
//     such a date and a space comes a well-formed time. toml++'s "such a date" is any ten
//     characters with a leading digit and dashes in the date's places (`1A79-05-27 7 l`).
//   * `}` inside an array, `a = [}]`, and non-ASCII white space (U+2028 and the like) where a
//     value may start: parse_value asserts that it does not start at a value terminator.
//     Neither is ever valid TOML outside strings and comments.
//   * a table header whose key does not start with a bare-key character or a quote,
//     `[(daemon]`: parse_key asserts that it does. After `[` or `[[` and spaces comes a key.
//
// The pre-scan is a lexer, not a parser: it skips comments and strings, and checks the bare
// words between them. Whatever it lets through, toml++ parses (and reports) as before.
import TOMLKit

/// A syntax error in TOML text, with where it is.
public struct TOMLTextError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line.
    public let line: Int
    /// 1-based column (in characters).
    public let column: Int
    /// What is wrong.
    public let message: String

    /// An error at `line`, `column`.
    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// `line L, column C`.
    public var location: String { "line \(line), column \(column)" }

    public var description: String { "\(location): \(message)" }
}

/// Parsing TOML text for convd's files.
public enum TOMLText {
    /// Pre-scans `text` and parses it with TOMLKit.
    public static func table(_ text: String) throws(TOMLTextError) -> TOMLTable {
        if let problem = prescan(text) { throw problem }
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw TOMLTextError(line: error.source.begin.line, column: error.source.begin.column,
                                message: error.description)
        } catch {
            throw TOMLTextError(line: 1, column: 1, message: "\(error)")
        }
    }

    /// The first construct in `text` that toml++ cannot be trusted with, or nil.
    public static func prescan(_ text: String) -> TOMLTextError? {
        var scanner = Scanner(Array(text.unicodeScalars))
        return scanner.run()
    }

    private struct Scanner {
        let s: [Unicode.Scalar]
        var i = 0
        var line = 1
        var lineStart = 0

        init(_ scalars: [Unicode.Scalar]) { s = scalars }

        func at(_ k: Int) -> Unicode.Scalar? { k < s.count ? s[k] : nil }

        func error(at k: Int, _ message: String) -> TOMLTextError {
            TOMLTextError(line: line, column: k - lineStart + 1, message: message)
        }

        mutating func newline(at k: Int) {
            line += 1
            lineStart = k + 1
        }

        /// Non-ASCII white space and line breaks (a byte-order mark too): never valid TOML
        /// outside strings and comments.
        static func isForeignSpace(_ c: Unicode.Scalar) -> Bool {
            switch c {
            case "\u{85}", "\u{A0}", "\u{1680}", "\u{180E}", "\u{2000}"..."\u{200B}", "\u{2028}", "\u{2029}",
                 "\u{202F}", "\u{205F}", "\u{3000}", "\u{FEFF}":
                return true
            default:
                return false
            }
        }

        mutating func run() -> TOMLTextError? {
            // The arrays ("[") and inline tables ("{") open around the current position; a "["
            // outside them that does not follow "=" starts a table header.
            var open: [Unicode.Scalar] = []
            var afterEquals = false
            while i < s.count {
                let c = s[i]
                switch c {
                case "\n":
                    newline(at: i)
                    if open.isEmpty { afterEquals = false }
                    i += 1
                case " ", "\t", "\r":
                    i += 1
                case "#":
                    while i < s.count && s[i] != "\n" { i += 1 }
                case "\"", "'":
                    skipString(quote: c)
                    afterEquals = false
                case "=":
                    afterEquals = true
                    i += 1
                case "[" where open.isEmpty && !afterEquals:
                    if let problem = checkTableHeader() { return problem }
                case "[", "{":
                    open.append(c)
                    afterEquals = false
                    i += 1
                case "}" where open.last == "[":
                    return error(at: i, "\"}\" inside an array (expected a value or \"]\")")
                case "]", "}":
                    if !open.isEmpty { open.removeLast() }
                    i += 1
                case _ where Self.isForeignSpace(c) && !(c == "\u{FEFF}" && i == 0):
                    return error(at: i, "U+\(String(c.value, radix: 16, uppercase: true)) (a non-ASCII space or "
                                 + "line break) outside a string or comment")
                case ",":
                    afterEquals = false
                    i += 1
                default:
                    let start = i
                    if afterEquals || open.last == "[" {
                        // A value: toml++ takes everything up to a value terminator.
                        while i < s.count && !Self.endsValue(s[i]) { i += 1 }
                        afterEquals = false
                        if i == start {  // a terminator without a case above (\v, \f)
                            i += 1
                            continue
                        }
                        let valueEnd = i
                        if let problem = checkSpacedDateTime(from: start) { return problem }
                        if i != valueEnd { continue }  // a date, a space and a time, checked
                    } else if Self.isWordScalar(c) {
                        while i < s.count && Self.isWordScalar(s[i]) { i += 1 }
                    } else {
                        i += 1
                        continue
                    }
                    if let problem = check(word: String(String.UnicodeScalarView(s[start..<i])), at: start) {
                        return problem
                    }
                }
            }
            return nil
        }

        /// toml++ reads a value that looks like a local date, a space and a digit as a
        /// date-time with a space for the `T`, and asserts that the digit is followed by more of
        /// the value (found by fuzzing: `a = 1979-05-27 1` at the end of a line). "Looks like"
        /// is loose: ten characters (`_` not counted) starting with a digit, with `-` as the
        /// fifth and eighth; letters and other characters that do not make it a number count
        /// too (`1A79-05-27 7 l`, and `9\u{FFFD}\u{FFFD}------= 4` found later). Such a value
        /// must be a date, a space and a well-formed time — anything else is not TOML either.
        /// On return `i` is past whatever was checked.
        mutating func checkSpacedDateTime(from start: Int) -> TOMLTextError? {
            let date = s[start..<i].filter { $0 != "_" }
            guard date.count == 10,
                  ("0"..."9").contains(date[date.startIndex]), date[date.startIndex + 4] == "-",
                  date[date.startIndex + 7] == "-",
                  at(i) == " ", let digit = at(i + 1), ("0"..."9").contains(digit) else { return nil }
            var end = i + 1
            while end < s.count && !Self.endsValue(s[end]) { end += 1 }
            let dateText = String(String.UnicodeScalarView(s[start..<i]))
            let timeText = String(String.UnicodeScalarView(s[(i + 1)..<end]))
            var p = Pattern(dateText)
            guard p.digits(4) && p.literal("-") && p.digits(2) && p.literal("-") && p.digits(2) && p.atEnd,
                  Self.isTime(timeText) else {
                return error(at: start, "malformed date-time \"\(dateText) \(timeText)\" (expected e.g. "
                             + "1979-05-27 07:32:00)")
            }
            i = end
            return nil
        }

        /// toml++'s value terminators (ASCII whitespace, `]`, `}`, `,`, `#`); non-ASCII white
        /// space is not one here (after a value toml++ refuses it anyway).
        static func endsValue(_ c: Unicode.Scalar) -> Bool {
            switch c {
            case " ", "\t", "\n", "\u{0B}", "\u{0C}", "\r", "]", "}", ",", "#": return true
            default: return false
            }
        }

        /// `[` or `[[`, optional spaces, then a key: toml++ asserts that what follows is a bare
        /// key character or a quote (found by fuzzing: `[(a]`, `[[[a]]]`, `[` then a line break).
        mutating func checkTableHeader() -> TOMLTextError? {
            i += 1
            var spaced = false
            while at(i) == " " || at(i) == "\t" { i += 1; spaced = true }
            if at(i) == "[" && !spaced {
                i += 1
                while at(i) == " " || at(i) == "\t" { i += 1 }
            } else if at(i) == "[" {
                return nil  // `[ [`: toml++ reports that itself
            }
            guard let c = at(i) else { return nil }
            switch c {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "-", "\"", "'", "]": return nil
            default:
                return error(at: i, "a table header needs a key after \"[\" (e.g. [daemon] or [[watch]]), found "
                             + (c == "\n" || c == "\r" ? "the end of the line" : "\"\(Character(c))\""))
            }
        }

        /// Skips a basic or literal string, one-line or multi-line; an unterminated string ends
        /// the scan (toml++ reports it).
        mutating func skipString(quote: Unicode.Scalar) {
            let multi = at(i + 1) == quote && at(i + 2) == quote
            i += multi ? 3 : 1
            while i < s.count {
                let c = s[i]
                if c == "\\" && quote == "\"" {
                    if at(i + 1) == "\n" { newline(at: i + 1) }
                    i += 2
                    continue
                }
                if c == "\n" {
                    newline(at: i)
                    i += 1
                    if !multi { return }
                    continue
                }
                if c == quote {
                    if !multi {
                        i += 1
                        return
                    }
                    if at(i + 1) == quote && at(i + 2) == quote {
                        // Up to two more quotes may close a multi-line string (`""""" `).
                        i += 3
                        for _ in 0..<2 where at(i) == quote { i += 1 }
                        return
                    }
                }
                i += 1
            }
        }

        /// Letters, digits and the punctuation of bare keys, numbers and dates.
        static func isWordScalar(_ c: Unicode.Scalar) -> Bool {
            switch c {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "-", "+", ".", ":": return true
            default: return false
            }
        }

        /// A bare value (or word) with a `:` that starts like a number is what toml++ reads as a
        /// time or date-time: it must be a well-formed one. (Bare keys have no `:`.)
        func check(word: String, at start: Int) -> TOMLTextError? {
            guard word.contains(":"), let first = word.unicodeScalars.first else { return nil }
            guard ("0"..."9").contains(first) || first == "+" || first == "-" else { return nil }
            if Self.isTime(word) || Self.isDateTime(word) { return nil }
            return error(at: start, "malformed date or time \"\(word)\" (expected e.g. 07:32:00, "
                         + "1979-05-27T07:32:00 or 1979-05-27T07:32:00Z)")
        }

        /// A time, optionally with an offset (the second word of `1979-05-27 07:32:00Z`).
        static func isTime(_ word: String) -> Bool {
            var p = Pattern(word)
            return p.time() && p.offset()
        }

        /// `YYYY-MM-DD`, `T`, a time and optionally an offset.
        static func isDateTime(_ word: String) -> Bool {
            var p = Pattern(word)
            return p.digits(4) && p.literal("-") && p.digits(2) && p.literal("-") && p.digits(2)
                && (p.literal("T") || p.literal("t")) && p.time() && p.offset()
        }
    }

    /// A cursor over ASCII for the date and time shapes.
    private struct Pattern {
        let u: [UInt8]
        var k = 0

        init(_ word: String) { u = Array(word.utf8) }

        var atEnd: Bool { k == u.count }

        mutating func literal(_ c: Character) -> Bool {
            guard k < u.count, u[k] == c.asciiValue else { return false }
            k += 1
            return true
        }

        mutating func digits(_ n: Int) -> Bool {
            guard k + n <= u.count, u[k..<(k + n)].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
            k += n
            return true
        }

        mutating func time() -> Bool {
            guard digits(2), literal(":"), digits(2) else { return false }
            guard literal(":") else { return true }
            guard digits(2) else { return false }
            guard literal(".") else { return true }
            let start = k
            while k < u.count && u[k] >= 0x30 && u[k] <= 0x39 { k += 1 }
            return k > start
        }

        /// Nothing, `Z` or `±HH:MM`, then the end of the word.
        mutating func offset() -> Bool {
            if atEnd { return true }
            if literal("Z") || literal("z") { return atEnd }
            guard literal("+") || literal("-") else { return false }
            return digits(2) && literal(":") && digits(2) && atEnd
        }
    }
}
