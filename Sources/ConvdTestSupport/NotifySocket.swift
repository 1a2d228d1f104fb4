// NotifySocket: plays systemd's side of sd_notify in tests — binds an AF_UNIX datagram socket
// and collects every message the daemon sends to $NOTIFY_SOCKET.
import Foundation
import Synchronization

public final class NotifySocket: Sendable {
    /// The socket's path (pass as NOTIFY_SOCKET).
    public let path: String
    private let fd: Int32
    private let received = Mutex<[String]>([])
    private let done = DispatchSemaphore(value: 0)

    /// Binds `path` and starts collecting.
    public init(path: String) throws {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw CocoaError(.fileWriteUnknown) }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let descriptor = fd
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(descriptor, &buffer, buffer.count, 0)
                if n > 0 {
                    let message = String(decoding: buffer[0..<n], as: UTF8.self)
                    received.withLock { $0.append(message) }
                } else if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                    break
                }
                if received.withLock({ $0.last == "\u{0}close" }) { break }
            }
            done.signal()
        }
    }

    /// Every message so far, in arrival order.
    public var messages: [String] { received.withLock { $0 } }

    /// Stops collecting and removes the socket.
    public func close() {
        received.withLock { $0.append("\u{0}close") }
        done.wait()
        received.withLock { _ = $0.popLast() }
        Glibc.close(fd)
        unlink(path)
    }
}
