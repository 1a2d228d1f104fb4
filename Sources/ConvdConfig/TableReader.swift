// TableReader: typed access to one TOML table that records what was read, so keys nobody
// asked for are reported as unknown, and wrong types name the key path and the type wanted.
import TOMLKit

/// Reads the keys of one table; problems go to a shared issue list.
struct TableReader {
    /// The key path of the table (`daemon`, `watch[1]`, `models.fashion`).
    let path: String
    let table: TOMLTable
    private(set) var known: [String] = []

    init(_ table: TOMLTable, path: String) {
        self.table = table
        self.path = path
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private mutating func value(_ key: String) -> TOMLValueConvertible? {
        known.append(key)
        return table[key]
    }

    private func wrongType(_ key: String, _ value: TOMLValueConvertible, _ wanted: String,
                           _ issues: inout [ConfigIssue]) {
        issues.append(ConfigIssue(keyPath(key), "expected \(wanted), found \(value.type)"))
    }

    mutating func string(_ key: String, _ issues: inout [ConfigIssue]) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.string else { wrongType(key, v, "a string", &issues); return nil }
        return s
    }

    mutating func bool(_ key: String, _ issues: inout [ConfigIssue]) -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.bool else { wrongType(key, v, "true or false", &issues); return nil }
        return b
    }

    /// An integer in `range`.
    mutating func int(_ key: String, in range: ClosedRange<Int>, _ issues: inout [ConfigIssue]) -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = v.int else { wrongType(key, v, "an integer", &issues); return nil }
        guard range.contains(i) else {
            issues.append(ConfigIssue(keyPath(key), "\(i) is out of range (\(range.lowerBound)...\(range.upperBound))"))
            return nil
        }
        return i
    }

    /// A number of seconds (integer or float), at least 0.
    mutating func seconds(_ key: String, _ issues: inout [ConfigIssue]) -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.double ?? v.int.map(Double.init) else { wrongType(key, v, "a number of seconds", &issues); return nil }
        guard d >= 0 && d.isFinite else { issues.append(ConfigIssue(keyPath(key), "must be 0 or more")); return nil }
        return d
    }

    /// One of `choices`.
    mutating func choice(_ key: String, _ choices: [String], _ issues: inout [ConfigIssue]) -> String? {
        guard let s = string(key, &issues) else { return nil }
        guard choices.contains(s) else {
            issues.append(ConfigIssue(keyPath(key), "\"\(s)\" is not one of \(choices.joined(separator: ", "))"))
            return nil
        }
        return s
    }

    mutating func strings(_ key: String, _ issues: inout [ConfigIssue]) -> [String]? {
        guard let v = value(key) else { return nil }
        guard let array = v.array else { wrongType(key, v, "an array of strings", &issues); return nil }
        var out: [String] = []
        for (i, item) in array.enumerated() {
            guard let s = item.string else {
                issues.append(ConfigIssue("\(keyPath(key))[\(i + 1)]", "expected a string, found \(item.type)"))
                return nil
            }
            out.append(s)
        }
        return out
    }

    /// A finite number (integer or float).
    mutating func number(_ key: String, _ issues: inout [ConfigIssue]) -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.double ?? v.int.map(Double.init), d.isFinite else { wrongType(key, v, "a number", &issues); return nil }
        return d
    }

    /// An array of finite numbers.
    mutating func numbers(_ key: String, _ issues: inout [ConfigIssue]) -> [Double]? {
        guard let v = value(key) else { return nil }
        guard let array = v.array else { wrongType(key, v, "an array of numbers", &issues); return nil }
        var out: [Double] = []
        for (i, item) in array.enumerated() {
            guard let d = item.double ?? item.int.map(Double.init), d.isFinite else {
                issues.append(ConfigIssue("\(keyPath(key))[\(i + 1)]", "expected a number, found \(item.type)"))
                return nil
            }
            out.append(d)
        }
        return out
    }

    mutating func subtable(_ key: String, _ issues: inout [ConfigIssue]) -> TOMLTable? {
        guard let v = value(key) else { return nil }
        guard let t = v.table else { wrongType(key, v, "a table", &issues); return nil }
        return t
    }

    mutating func array(_ key: String, _ issues: inout [ConfigIssue]) -> TOMLArray? {
        guard let v = value(key) else { return nil }
        guard let a = v.array else { wrongType(key, v, "an array of tables", &issues); return nil }
        return a
    }

    /// Reports every key of the table that was never read.
    func reportUnknown(_ issues: inout [ConfigIssue]) {
        for key in table.keys.sorted() where !known.contains(key) {
            issues.append(ConfigIssue(keyPath(key), "unknown key (keys here: \(known.joined(separator: ", ")))"))
        }
    }
}
