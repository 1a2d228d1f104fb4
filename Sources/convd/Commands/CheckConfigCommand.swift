// `convd check-config`: validate a daemon config and print it resolved.
import ArgumentParser
import ConvdConfig
import ConvdDaemon
import ConvdImage
import ConvdSystem

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a daemon config and print it with every default filled in.",
        discussion: """
            Reports every problem, one per line, as FILE: KEY PATH: REASON (syntax errors give the \
            line and column): unknown or mistyped keys, unknown chain or model names, chains that do \
            not parse or do not fit their model, unreadable model files, output folders inside an \
            input tree, overlapping inputs and missing folders whose parent is missing too. Nothing \
            is created or changed. Exit status 0 when the config is usable, 1 otherwise.
            """
    )

    @Option(help: "The config file.")
    var config: String = DaemonConfig.defaultPath

    func run() throws {
        let loaded: DaemonConfig
        let pipelines: [Pipeline]
        let toCreate: [String]
        do {
            loaded = try DaemonConfig.load(config)
            toCreate = try loaded.checkFolders(create: false)
            pipelines = try Pipeline.resolveAll(loaded)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        print(Self.describe(loaded, pipelines: pipelines, toCreate: toCreate), terminator: "")
    }

    static func describe(_ c: DaemonConfig, pipelines: [Pipeline], toCreate: [String]) -> String {
        func q(_ s: String) -> String { "\"\(s)\"" }
        let d = c.daemon
        var out = "# \(c.file): OK\n[daemon]\n"
        out += "workers = \(d.workers)\nstate_dir = \(q(d.stateDir))\nclassification_log = \(q(d.classificationLog))\n"
        out += "status_file = \(q(d.statusFile))\nlog_format = \(q(d.logFormat.rawValue))\nlog_level = \(q(d.logLevel))\n"
        out += "max_file_bytes = \(d.maxFileBytes)\nmax_pixels = \(d.maxPixels)\n"
        if let jobBytes = pipelines.first?.image.maxJobBytes ?? d.maxJobBytes {
            out += "max_job_bytes = \(jobBytes)  # \(jobBytes >> 20) MiB"
                + (d.maxJobBytes == nil ? ", the default: (memory limit \(MemoryBudget.processLimit() >> 20) MiB − "
                   + "\(MemoryBudget.reserve >> 20) MiB − models) / workers\n" : "\n")
        }
        switch d.ledger {
        case .sqlite: out += "ledger = \"sqlite\"  # \(d.stateDir)/ledger.sqlite\n"
        case .postgres(let uri):
            out += "ledger = \(q(PostgresLedger.redacted(uri)))\nnode_name = \(q(d.nodeName))\n"
            out += "lease_seconds = \(d.leaseSeconds)\n"
        }
        if let metrics = d.metricsFile { out += "metrics_file = \(q(metrics))\n" }
        out += "ledger_retention = \(d.ledgerRetentionDays)\n"
        out += "rescan_interval = \(d.rescanInterval)\nstop_timeout = \(d.stopTimeout)\nsync = \(q(d.sync.rawValue))\n"
        out += "ignore = [\(d.ignore.map(q).joined(separator: ", "))]\n"
        if !c.chains.isEmpty {
            out += "\n[chains]\n"
            for chain in c.chains { out += "\(chain.name) = \(q(chain.text))\n" }
        }
        for m in c.models {
            out += "\n[models.\(m.name)]\npath = \(q(m.path))\ntop_k = \(m.topK)\n"
            if let config = m.config {
                out += "config = \(q(config))\n"
            } else if OnnxModelFile.isOnnx(m.path), let config = OnnxModelFile.defaultConfig(for: m.path) {
                out += "config = \(q(config))  # the default: the model's path + .toml\n"
            }
        }
        for p in pipelines {
            let w = p.watch
            out += "\n[[watch]]\nname = \(q(w.name))\ninput = \(q(w.input))\noutput = \(q(w.output))\n"
            if let model = w.model { out += "model = \(q(model))\n" }
            if let chain = w.chain {
                out += "chain = \(q(chain))\n"
                out += "formats = [\(OutputFormats.names.filter { w.formats.contains($0.1) }.map { q($0.0) }.joined(separator: ", "))]\n"
            }
            out += "recursive = \(w.recursive)\npattern = \(q(w.pattern))\nafter = \(q(w.after.rawValue))\n"
            if let done = w.doneDir { out += "done_dir = \(q(done))\n" }
            if let failed = w.failedDir { out += "failed_dir = \(q(failed))\n" }
            out += "settle_ms = \(w.settleMs)\npng_compression = \(w.pngCompression)\nmode = \(q(w.mode.rawValue))\n"
            out += "poll_interval = \(w.pollInterval)\nfollow_symlinks = \(w.followSymlinks)\n"
            out += "ignore = [\(w.ignore.map(q).joined(separator: ", "))]\n"
            for line in p.summary() { out += "# \(line)\n" }
        }
        for path in toCreate { out += "# will be created: \(path)\n" }
        return out
    }
}
