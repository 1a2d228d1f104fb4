// DaemonHarness: the real `convd run` on a temporary tree, for end-to-end tests — start it
// with a config, drop files, poll (with a deadline, never a fixed sleep) for outputs and
// classification log lines, send signals, read its stderr.
import Foundation

public final class DaemonHarness: @unchecked Sendable {
    /// The temporary tree: config, in/, out/, failed/, state/, log/.
    public let root: TemporaryDirectory
    /// The config file.
    public let configPath: String
    /// The daemon's stderr, captured to a file.
    public let stderrPath: String
    private var process: Process?

    /// The PostgreSQL ledger the daemon uses, or nil for the SQLite default. With
    /// CONVD_TEST_LEDGER=postgres every harness gets a fresh database of the tests' server, so
    /// the same end-to-end tests cover both backends.
    public let ledgerURI: String?

    /// Whether the tests run against the PostgreSQL backend (CONVD_TEST_LEDGER=postgres).
    public static var postgresLedger: Bool { ProcessInfo.processInfo.environment["CONVD_TEST_LEDGER"] == "postgres" }

    /// A tree whose config is `config` with `@ROOT@` replaced by the tree's path.
    public init(config: String) throws {
        ledgerURI = Self.postgresLedger ? try PostgresServer.shared.createDatabase() : nil
        root = TemporaryDirectory()
        configPath = root.file("convd.toml")
        stderrPath = root.file("daemon.stderr")
        for folder in ["in", "out", "failed", "state", "log", "done"] {
            try FileManager.default.createDirectory(atPath: root.file(folder), withIntermediateDirectories: true)
        }
        try setConfig(config)
    }

    /// Rewrites the config file.
    public func setConfig(_ text: String) throws {
        var text = text.replacingOccurrences(of: "@ROOT@", with: root.path)
        if let ledgerURI, let range = text.range(of: "[daemon]\n") {
            text.insert(contentsOf: "ledger = \"\(ledgerURI)\"\n", at: range.upperBound)
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: configPath))
    }

    /// `path` under the tree.
    public func path(_ relative: String) -> String { root.file(relative) }

    /// Starts `convd run --config ... extra...`, through `launcher` (a command that ends by
    /// running its arguments, such as `unshare ...`) when one is given.
    public func start(extra: [String] = [], environment: [String: String] = [:], launcher: [String] = []) throws {
        let process = Process()
        let command = launcher + [ConvdBinary.path, "run", "--config", configPath] + extra
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        env.removeValue(forKey: "WATCHDOG_USEC")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        handle.seekToEndOfFile()
        process.standardError = handle
        process.standardOutput = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    /// The daemon's pid.
    public var pid: Int32 { process?.processIdentifier ?? 0 }

    /// Whether it is still running.
    public var isRunning: Bool { process?.isRunning ?? false }

    /// Sends `signal`.
    public func send(_ signal: Int32) { if let p = process, p.isRunning { kill(p.processIdentifier, signal) } }

    /// Waits up to `timeout` seconds for the process to exit; its status, or nil.
    public func waitForExit(timeout: Double = 30) -> Int32? {
        guard let p = process else { return nil }
        guard Self.poll(timeout: timeout, { !p.isRunning }) else { return nil }
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// Everything the daemon wrote to stderr so far.
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// The classification log's lines as JSON objects.
    public func logLines(_ relative: String = "log/classifications.jsonl") -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: path(relative), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` seconds pass.
    @discardableResult
    public static func poll(timeout: Double = 30, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    /// Waits until the status file says the daemon is running (it writes it after READY).
    @discardableResult
    public func waitUntilReady(timeout: Double = 30) -> Bool {
        Self.poll(timeout: timeout) {
            guard let data = FileManager.default.contents(atPath: path("state/status.json")),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
            return object["state"] as? String == "running" && object["pid"] as? Int == Int(pid)
        }
    }

    /// Writes `bytes` under a temporary name beside `relative` and renames it into place.
    public func drop(_ relative: String, _ bytes: [UInt8]) throws {
        let target = path(relative)
        let folder = (target as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = folder + "/." + (target as NSString).lastPathComponent + ".part"
        try Data(bytes).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, target) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    /// Writes `bytes` in place (open, write, close).
    public func write(_ relative: String, _ bytes: [UInt8]) throws {
        let target = path(relative)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
    }

    /// Files (recursively, relative paths) under `relative`.
    public func files(under relative: String) -> [String] {
        (FileManager.default.enumerator(atPath: path(relative))?.allObjects as? [String] ?? [])
            .filter { FileManager.default.fileExists(atPath: path(relative + "/" + $0), isDirectory: nil)
                && !isFolder(relative + "/" + $0) }
            .sorted()
    }

    private func isFolder(_ relative: String) -> Bool {
        var folder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path(relative), isDirectory: &folder) && folder.boolValue
    }

    deinit {
        if let p = process, p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
    }
}
