// DaemonService: the daemon as a swift-service-lifecycle Service; graceful shutdown (SIGTERM,
// SIGINT) asks it to stop, and its exit status is kept for the command.
import ConvdDaemon
import ServiceLifecycle
import Synchronization

final class DaemonService: Service, Sendable {
    private let daemon: Daemon
    private let code = Mutex<Int32>(0)

    init(daemon: Daemon) {
        self.daemon = daemon
    }

    var exitCode: Int32 { code.withLock { $0 } }

    func run() async throws {
        let daemon = self.daemon
        let result = await withGracefulShutdownHandler {
            await daemon.serve()
        } onGracefulShutdown: {
            daemon.requestStop()
        }
        code.withLock { $0 = result }
    }
}
