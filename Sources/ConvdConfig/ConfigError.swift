// ConfigError: everything wrong with a daemon config file, one issue per line, each naming
// the key path (`watch[2].chain`) or, for TOML syntax errors, the line and column.

import TOMLKit

/// One problem in a config file.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    /// Where: a key path such as `daemon.workers` or `watch[1].input`, or `line 3, column 7`.
    public let location: String
    /// What is wrong and, where it helps, what is allowed.
    public let message: String

    /// An issue at `location`.
    public init(_ location: String, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { location.isEmpty ? message : "\(location): \(message)" }
}

/// A config file that cannot be used, with every issue found.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The config file.
    public let file: String
    /// What is wrong, in file order as far as it is known.
    public let issues: [ConfigIssue]

    /// An error for `file`.
    public init(file: String, issues: [ConfigIssue]) {
        self.file = file
        self.issues = issues
    }

    /// The root table of the TOML `text` of `file`, a syntax error as this error.
    static func root(_ text: String, file: String) throws(ConfigError) -> TOMLTable {
        do {
            return try TOMLText.table(text)
        } catch {
            throw ConfigError(file: file, issues: [ConfigIssue(error.location, error.message)])
        }
    }

    /// One line per issue: `FILE: LOCATION: MESSAGE`.
    public var description: String { issues.map { "\(file): \($0)" }.joined(separator: "\n") }
}
