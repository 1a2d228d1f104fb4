// SystemdNotifier: sd_notify(3) without libsystemd — datagrams to the AF_UNIX socket named by
// $NOTIFY_SOCKET (a leading `@` is the abstract namespace). Without the variable (not under
// systemd) every call does nothing. `WATCHDOG_USEC` gives the watchdog interval.
import ConvdSystem
#if canImport(Glibc)
import Glibc
#endif

public final class SystemdNotifier: Sendable {
    private let socketPath: [UInt8]?
    /// The watchdog interval in seconds, when systemd asked for pings.
    public let watchdogInterval: Double?

    /// A notifier for this process's environment.
    public init(environment: [String: String]) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        if let text = environment["WATCHDOG_USEC"], let usec = Double(text), usec > 0,
           environment["WATCHDOG_PID"].map({ $0 == String(getpid()) }) ?? true {
            watchdogInterval = usec / 1_000_000
        } else {
            watchdogInterval = nil
        }
    }

    /// Whether a notification socket is configured.
    public var isActive: Bool { socketPath != nil }

    /// Sends `READY=1` (and the status) once the daemon serves.
    public func ready(status: String) {
        notify("READY=1\nSTATUS=\(Self.statusValue(status))\nMAINPID=\(getpid())")
    }

    /// Sends `STATUS=` with `text`.
    public func status(_ text: String) {
        notify("STATUS=\(Self.statusValue(text))")
    }

    /// A STATUS= value: one line (every control character escaped, so no text can add a
    /// `WATCHDOG=trigger` or `STOPPING=1` line: audit #2), at most 1,024 characters.
    public static func statusValue(_ text: String) -> String {
        DisplayText.escaped(text, limit: 1024)
    }

    /// Sends `state`: lines such as `WATCHDOG=1`, built by this type's callers from constants
    /// and numbers only (text goes through `status`/`ready`); false when it could not be sent.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard var path = socketPath, path.count < 108 else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.enumerated() { raw[i] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL), $0, length)
            }
        }
        return sent == bytes.count
    }

    /// `RELOADING=1` with the `MONOTONIC_USEC` systemd 253+ wants for Type=notify-reload.
    public func reloading() {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        notify("RELOADING=1\nMONOTONIC_USEC=\(Int64(t.tv_sec) * 1_000_000 + Int64(t.tv_nsec) / 1000)")
    }
}
