// StderrLogHandler: swift-log lines on stderr for journald, as text
// (`TIME LEVEL message key=value ...`) or one JSON object per line. Metadata keys are dotted
// (`watch.name`, `file.path`). Per-file lines are debug; journald's rate limit would drop
// info lines in a burst.
import ConvdConfig
import ConvdSystem
import Logging
#if canImport(Glibc)
import Glibc
#endif

public struct StderrLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let format: LogFormat

    /// A handler writing `format` lines at `level` and above.
    public init(format: LogFormat, level: Logger.Level) {
        self.format = format
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let pairs = all.sorted { $0.key < $1.key }
        let time = isoTime(wallClock())
        var line: String
        switch format {
        case .text:
            // One journald entry per line, nothing a terminal acts on: the message and every
            // value are escaped (DisplayText), so a file name cannot forge a line (audit #7).
            line = "\(time) \(event.level) \(DisplayText.escaped("\(event.message)"))"
            for (key, value) in pairs { line += " \(key)=\(Self.quoted(DisplayText.escaped("\(value)")))" }
        case .json:
            var json = JSONText()
            json.add("time", time)
            json.add("level", "\(event.level)")
            json.add("message", "\(event.message)")
            for (key, value) in pairs { json.add(key, "\(value)") }
            line = json.text
        }
        line += "\n"
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    private static func quoted(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) ? JSONText.string(value) : value
    }
}

extension Logger.Level {
    /// The config's `log_level` names.
    public init(configName: String) {
        self = Logger.Level(rawValue: configName) ?? .info
    }
}
