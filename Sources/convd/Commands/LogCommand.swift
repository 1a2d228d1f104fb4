// `convd log`: the classification log lines of every node, from the ledger, in sequence order.
import ArgumentParser
import ConvdConfig
import ConvdDaemon
import ConvdSystem
import Foundation

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print the classification log lines of every node, in sequence order, from the ledger.",
        discussion: """
            Each node of a fleet appends the lines of the jobs it finished to its own classification_log; \
            this prints the fleet's lines from the shared ledger (or, on one host, from the SQLite ledger), \
            one JSON object per line, ordered by seq — which is commit order, so --follow never skips a \
            line committed late. Lines of rows pruned after ledger_retention days are no longer there.
            """
    )

    @Option(help: "The config file.")
    var config: String = DaemonConfig.defaultPath

    @Option(help: "Start after this sequence number (0: from the first line kept).")
    var after: Int64 = 0

    @Flag(name: .shortAndLong, help: "Keep printing new lines as they are committed (Ctrl-C ends).")
    var follow = false

    func run() throws {
        let ledger: any Ledger
        do {
            ledger = try DaemonConfig.load(config).daemon.openLedger(node: false)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        var last = after
        while true {
            let lines: [(Int64, String)]
            do {
                lines = try ledger.allLines(after: last, limit: 1000)
            } catch {
                printError("ledger: \(error)")
                if follow { Thread.sleep(forTimeInterval: 2); continue }
                throw ExitCode.failure
            }
            for (seq, line) in lines {
                print(line)
                last = seq
            }
            fflush(nil)  // every stream: a pipe sees each batch at once
            if lines.count == 1000 { continue }
            guard follow else { return }
            Thread.sleep(forTimeInterval: 0.5)
        }
    }
}
