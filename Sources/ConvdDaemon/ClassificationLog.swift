// ClassificationLog: the append-only JSON-lines file users `tail -f`: one line per processed
// file version, never through journald. Each line, or a committed group's lines, is one
// write(2) to an O_APPEND descriptor (a write that fails part-way is cut off again); `reopen()` (on SIGHUP) starts a new file after
// logrotate moved the old one away.
// At start, lines the ledger finished but the log never got (a crash between the two) are
// appended, so every finished version has exactly one line.
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public final class ClassificationLog: Sendable {
    /// The log file.
    public let path: String
    private let fd: Mutex<Int32>

    /// Opens (creating) `path` for appending.
    public init(path: String) throws(DaemonError) {
        self.path = path
        fd = Mutex(try Self.open(path))
    }

    deinit { fd.withLock { _ = close($0) } }

    private static func open(_ path: String) throws(DaemonError) -> Int32 {
        let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw DaemonError("\(path): cannot open the classification log: \(errnoText())") }
        return descriptor
    }

    /// Appends one line; false when the write failed (the ledger keeps the line for later).
    public func append(_ line: String) -> Bool { append([line]) }

    /// Appends lines with one write(2) (a batch of finished jobs); false when it failed.
    public func append(_ lines: [String]) -> Bool {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(lines.reduce(0) { $0 + $1.utf8.count + 1 })
        for line in lines {
            bytes.append(contentsOf: line.utf8)
            bytes.append(0x0A)
        }
        return fd.withLock { fd in
            let start = lseek(fd, 0, SEEK_END)
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    // No torn line for the next write to be glued to: the ledger hands these
                    // lines over again with the next group.
                    if done > 0 && start >= 0 { _ = ftruncate(fd, start) }
                    return false
                }
                done += n
            }
            return true
        }
    }

    /// Closes and reopens the path (logrotate's `create` or `copytruncate` both work).
    public func reopen() throws(DaemonError) {
        let new = try Self.open(path)
        fd.withLock { fd in
            close(fd)
            fd = new
        }
    }

    /// The `seq` of the last complete line in the file, or 0.
    public static func lastSeq(in path: String) -> Int64 {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        let start = max(0, size - 65536)
        var buffer = [UInt8](repeating: 0, count: Int(size - start))
        guard pread(fd, &buffer, buffer.count, start) == buffer.count else { return 0 }
        let lines = buffer.split(separator: 0x0A)
        for line in lines.reversed() {
            let text = String(decoding: line, as: UTF8.self)
            guard text.hasPrefix("{\"seq\":"), text.hasSuffix("}") else { continue }
            let digits = text.dropFirst(7).prefix { $0.isNumber }
            if let seq = Int64(digits) { return seq }
        }
        return 0
    }
}

/// A daemon failure to report as one line.
public struct DaemonError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

func errnoText() -> String { String(cString: strerror(errno)) }
