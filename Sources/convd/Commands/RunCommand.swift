// `convd run`: the daemon in the foreground (systemd runs it as Type=notify).
import ArgumentParser
import ConvdConfig
import ConvdDaemon
import Foundation
import Logging
import ServiceLifecycle

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: watch the configured folders and process every new PNG.",
        discussion: """
            Reads the config (see etc/convd/convd.toml for every key), creates missing folders whose \
            parent exists, lists every watch's input tree and then processes each new or changed PNG \
            exactly once: outputs under the watch's output folder, one line per file in the \
            classification log. Logs go to stderr (journald under systemd).

            Signals: SIGTERM/SIGINT stop taking jobs, finish those in flight (up to stop_timeout) and \
            exit 0; SIGHUP reopens the classification log and reloads the config (keeping the old \
            one if the new one has errors). Under systemd, readiness, status and watchdog pings go \
            to $NOTIFY_SOCKET.

            With --oneshot, convd processes what is in the input folders and exits: 0, or 1 if a \
            file failed or is still waiting (for cron where a daemon does not fit).

            With [daemon] ledger set to a PostgreSQL URI, several convd processes (each with its own \
            node_name) share the same folders and process each file once between them; see 'convd \
            ledger init', 'convd log' and the README's "More than one host".
            """
    )

    @Option(help: "The config file.")
    var config: String = DaemonConfig.defaultPath

    @Flag(help: "Process the backlog and exit instead of watching.")
    var oneshot = false

    func run() async throws {
        let loaded: DaemonConfig
        let pipelines: [Pipeline]
        do {
            loaded = try DaemonConfig.load(config)
            try loaded.checkFolders(create: true)
            pipelines = try Pipeline.resolveAll(loaded)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        let format = loaded.daemon.logFormat
        let level = Logger.Level(configName: loaded.daemon.logLevel)
        LoggingSystem.bootstrap { _ in StderrLogHandler(format: format, level: level) }
        let logger = Logger(label: "convd")
        let daemon: Daemon
        do {
            daemon = try Daemon(config: loaded, pipelines: pipelines, logger: logger,
                                notifier: SystemdNotifier(environment: ProcessInfo.processInfo.environment),
                                oneshot: oneshot)
        } catch {
            printError("convd: \(error)")
            throw ExitCode.failure
        }
        let service = DaemonService(daemon: daemon)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        let code = service.exitCode
        if code != 0 { throw ExitCode(code) }
    }
}
