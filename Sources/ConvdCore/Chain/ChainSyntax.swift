// ChainSyntax: the tokenizer and the generic parse of one step, `name` or
// `name(arg, arg, ...; key=value, ...)`, where an argument is a number, a name, a call such as
// `gaussian(5, 1.0)` or a nested list such as `[[1,0,-1],[2,0,-2],[1,0,-1]]`. What the names
// mean is FilterChain+Parse.swift's business. Nesting is capped (ChainLimits.maxNesting), so
// the recursion is bounded whatever the text.

/// One parsed argument.
indirect enum ChainValue: Equatable {
    case number(Double)
    case name(String)
    case call(String, [ChainValue])
    case list([ChainValue])
}

/// A step before interpretation: its name, positional arguments and `key=value` options.
struct RawStep: Equatable {
    var name: String
    var arguments: [ChainValue]
    var options: [(key: String, value: ChainValue)]
    var hasParentheses: Bool

    static func == (l: RawStep, r: RawStep) -> Bool {
        l.name == r.name && l.arguments == r.arguments && l.hasParentheses == r.hasParentheses
            && l.options.map(\.key) == r.options.map(\.key) && l.options.map(\.value) == r.options.map(\.value)
    }
}

enum ChainToken: Equatable {
    case name(String)
    case number(Double)
    case symbol(Character)
}

/// Splits `text` at top-level `|`; brackets nest.
func splitSteps(_ text: String) -> [String] {
    var steps: [String] = [], current = "", depth = 0
    for ch in text {
        if ch == "(" || ch == "[" { depth += 1 }
        if ch == ")" || ch == "]" { depth -= 1 }
        if ch == "|" && depth <= 0 {
            steps.append(current)
            current = ""
        } else {
            current.append(ch)
        }
    }
    steps.append(current)
    return steps.map(trimmed)
}

func trimmed(_ s: String) -> String {
    var chars = Substring(s)
    while let f = chars.first, f.isWhitespace { chars.removeFirst() }
    while let l = chars.last, l.isWhitespace { chars.removeLast() }
    return String(chars)
}

func tokenize(_ text: String) throws(ChainSyntaxError) -> [ChainToken] {
    var tokens: [ChainToken] = []
    let chars = Array(text)
    var i = 0
    while i < chars.count {
        let c = chars[i]
        if c.isWhitespace {
            i += 1
        } else if c.isLetter || c == "_" {
            var j = i
            while j < chars.count && (chars[j].isLetter || chars[j].isNumber || chars[j] == "_" || chars[j] == "-") {
                j += 1
            }
            tokens.append(.name(String(chars[i..<j])))
            i = j
        } else if c.isNumber || c == "-" || c == "+" || c == "." {
            var j = i + 1
            while j < chars.count && (chars[j].isNumber || chars[j] == "." || chars[j] == "e" || chars[j] == "E"
                                      || ((chars[j] == "-" || chars[j] == "+") && (chars[j - 1] == "e" || chars[j - 1] == "E"))) {
                j += 1
            }
            let literal = String(chars[i..<j])
            guard let value = Double(literal), value.isFinite else {
                throw ChainSyntaxError(message: "\"\(literal)\" is not a number")
            }
            tokens.append(.number(value))
            i = j
        } else if "()[],;=".contains(c) {
            tokens.append(.symbol(c))
            i += 1
        } else {
            throw ChainSyntaxError(message: "unexpected character \"\(c)\"")
        }
    }
    return tokens
}

struct ChainSyntaxError: Error {
    let message: String
}

/// Recursive-descent parser over the tokens of one step.
struct StepParser {
    private let tokens: [ChainToken]
    private var position = 0

    init(_ text: String) throws(ChainSyntaxError) {
        tokens = try tokenize(text)
    }

    static func parse(_ text: String) throws(ChainSyntaxError) -> RawStep {
        var parser = try StepParser(text)
        return try parser.step()
    }

    private var next: ChainToken? { position < tokens.count ? tokens[position] : nil }

    private mutating func expect(_ symbol: Character) throws(ChainSyntaxError) {
        guard next == .symbol(symbol) else {
            throw ChainSyntaxError(message: next.map { "expected \"\(symbol)\" before \(describe($0))" }
                                   ?? "missing \"\(symbol)\"")
        }
        position += 1
    }

    private func describe(_ token: ChainToken) -> String {
        switch token {
        case .name(let n): return "\"\(n)\""
        case .number(let v): return "\"\(format(v))\""
        case .symbol(let s): return "\"\(s)\""
        }
    }

    private mutating func step() throws(ChainSyntaxError) -> RawStep {
        guard case .name(let name)? = next else {
            throw ChainSyntaxError(message: next.map { "expected a step name, found \(describe($0))" } ?? "empty step")
        }
        position += 1
        var raw = RawStep(name: name, arguments: [], options: [], hasParentheses: false)
        if next == .symbol("(") {
            raw.hasParentheses = true
            position += 1
            while next != .symbol(")") {
                guard next != nil else { throw ChainSyntaxError(message: "missing \")\"") }
                if case .name(let key)? = next, position + 1 < tokens.count, tokens[position + 1] == .symbol("=") {
                    position += 2
                    raw.options.append((key, try value(level: 1)))
                } else {
                    if !raw.options.isEmpty {
                        throw ChainSyntaxError(message: "positional argument after options")
                    }
                    raw.arguments.append(try value(level: 1))
                }
                if next == .symbol(",") || next == .symbol(";") {
                    position += 1
                } else if next != .symbol(")") {
                    try expect(")")
                }
            }
            position += 1
        }
        if let extra = next {
            throw ChainSyntaxError(message: "unexpected \(describe(extra)) after the step (steps are separated by \"|\")")
        }
        return raw
    }

    /// Refuses a parenthesis or bracket that would open level `level`.
    private func checkNesting(_ level: Int) throws(ChainSyntaxError) {
        guard level <= ChainLimits.maxNesting else {
            throw ChainSyntaxError(message: "parentheses and brackets nest more than \(ChainLimits.maxNesting) levels deep")
        }
    }

    /// A value inside `level` open parentheses or brackets (the step's own are level 1).
    private mutating func value(level: Int) throws(ChainSyntaxError) -> ChainValue {
        switch next {
        case .number(let v)?:
            position += 1
            return .number(v)
        case .name(let n)?:
            position += 1
            guard next == .symbol("(") else { return .name(n) }
            try checkNesting(level + 1)
            position += 1
            var args: [ChainValue] = []
            while next != .symbol(")") {
                args.append(try value(level: level + 1))
                if next == .symbol(",") { position += 1 } else if next != .symbol(")") { try expect(")") }
            }
            position += 1
            return .call(n, args)
        case .symbol("[")?:
            try checkNesting(level + 1)
            position += 1
            var items: [ChainValue] = []
            while next != .symbol("]") {
                items.append(try value(level: level + 1))
                if next == .symbol(",") { position += 1 } else if next != .symbol("]") { try expect("]") }
            }
            position += 1
            return .list(items)
        case let token?:
            throw ChainSyntaxError(message: "unexpected \(describe(token))")
        case nil:
            throw ChainSyntaxError(message: "missing a value")
        }
    }
}

/// A number as a chain would spell it: integers without ".0".
func format(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
}
