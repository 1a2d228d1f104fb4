// `convd status`: print the running daemon's status file.
import ArgumentParser
import ConvdConfig
import ConvdDaemon
import ConvdSystem
import Foundation

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the daemon is doing: per-watch counts, modes and what is blocked.",
        discussion: """
            Reads the status file the daemon rewrites every second (daemon.status_file, by default \
            STATE_DIR/status.json). Exit status 1 when there is no status file or its daemon is not running. \
            With a PostgreSQL ledger the counts are the fleet's, and every node is listed with its last \
            heartbeat and the jobs it has in flight.
            """
    )

    @Option(help: "The config file.")
    var config: String = DaemonConfig.defaultPath

    @Flag(help: "Print the status file's JSON.")
    var json = false

    func run() throws {
        let status: DaemonStatus
        do {
            let loaded = try DaemonConfig.load(config)
            do {
                status = try DaemonStatus.read(from: loaded.daemon.statusFile)
            } catch {
                throw CommandError("\(loaded.daemon.statusFile): no status (has the daemon run with this config?): \(error)")
            }
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        let alive = status.state != "stopped" && kill(status.pid, 0) == 0
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: (try? encoder.encode(status)) ?? Data(), as: UTF8.self))
        } else {
            // The status file is the daemon's, but its texts hold names from the watched folders:
            // nothing an attacker chose reaches the terminal unescaped (audit #8).
            print(DisplayText.escaped("convd pid \(status.pid): \(alive ? status.state : "not running") (started "
                  + "\(status.started), updated \(status.updated)); overflows \(status.overflows), rescans \(status.rescans)"))
            if let problem = status.ledger { print("ledger: " + DisplayText.escaped(problem)) }
            let rows = [["WATCH", "MODE", "PROCESSED", "FAILED", "QUEUED", "BLOCKED"]]
                + status.watches.map { [$0.name, $0.mode, "\($0.processed)", "\($0.failed)", "\($0.queued)", $0.blocked ?? "-"]
                    .map(DisplayText.escaped) }
            printTable(rows)
            if let nodes = status.nodes {
                print("\nfleet (this node: \(DisplayText.escaped(status.node ?? "?"))); counts above are the fleet's")
                printTable([["NODE", "HOST", "PID", "HEARTBEAT", "IN FLIGHT"]] + nodes.map {
                    [$0.name, $0.host, "\($0.pid)", String(format: "%.0f s ago", $0.heartbeatAge), "\($0.inFlight)"]
                        .map(DisplayText.escaped)
                })
            }
        }
        if !alive { throw ExitCode.failure }
    }

    /// Columns padded to their widest cell; the last one as it is.
    private func printTable(_ rows: [[String]]) {
        guard let columns = rows.first?.count else { return }
        let widths = (0..<columns).map { c in rows.map { $0[c].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { c, cell in
                c == columns - 1 ? cell : cell + String(repeating: " ", count: widths[c] - cell.count)
            }.joined(separator: "  "))
        }
    }
}
