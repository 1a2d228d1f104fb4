// `convd retry`: process files again (after fixing what made them fail).
import ArgumentParser
import ConvdConfig
import ConvdDaemon

struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Process files again: failed ones (in a failed_dir or an input folder) or finished ones.",
        discussion: """
            Each PATH is a file in a watch's input tree or failed_dir. A file in a failed_dir is \
            moved back to its place in the input tree. Its earlier result is forgotten in the \
            ledger and the file is queued; a running daemon picks it up within a second, otherwise \
            the next start does. Moving a file back into an input folder by hand has the same effect.
            """
    )

    @Option(help: "The config file.")
    var config: String = DaemonConfig.defaultPath

    @Argument(help: "Files to process again.")
    var paths: [String]

    func run() throws {
        let ledger: any Ledger
        let loaded: DaemonConfig
        do {
            loaded = try DaemonConfig.load(config)
            ledger = try loaded.daemon.openLedger(node: false)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        var failures = 0
        for path in paths {
            do {
                print(try Retry.retry(path, config: loaded, ledger: ledger))
            } catch {
                printError("\(error)")
                failures += 1
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }
}
