// `convd ledger init`: create or migrate the ledger's schema.
import ArgumentParser
import ConvdConfig
import ConvdDaemon

struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Manage the ledger database.",
        subcommands: [Init.self]
    )

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create or migrate the ledger's tables ([daemon] ledger), then exit.",
            discussion: """
                For a PostgreSQL ledger, run it once as a role that may create tables; nodes whose role \
                may not then run on that schema. A node also creates or migrates the schema at start \
                when its role may. For the SQLite ledger this creates STATE_DIR/ledger.sqlite.
                """
        )

        @Option(help: "The config file.")
        var config: String = DaemonConfig.defaultPath

        func run() throws {
            do {
                let settings = try DaemonConfig.load(config).daemon
                _ = try settings.openLedger(node: false)
                switch settings.ledger {
                case .sqlite: print("ledger \(settings.stateDir)/ledger.sqlite: ready")
                case .postgres(let uri): print("ledger \(PostgresLedger.redacted(uri)): schema version "
                                               + "\(PostgresLedger.schemaVersion), ready")
                }
            } catch {
                printError("\(error)")
                throw ExitCode.failure
            }
        }
    }
}
