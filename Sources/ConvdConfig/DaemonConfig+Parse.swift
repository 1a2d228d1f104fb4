// Parsing a daemon config: TOML → DaemonConfig, collecting every issue (unknown keys, wrong
// types, unknown chain or model names, bad values) before giving up.
import ConvdImage
import ConvdSystem
import TOMLKit
#if canImport(Glibc)
import Glibc
#endif

extension DaemonConfig {
    /// The built-in default path.
    public static let defaultPath = "/etc/convd/convd.toml"

    /// Reads and parses `path` (no file-system checks; see `checkPaths`).
    public static func load(_ path: String) throws(ConfigError) -> DaemonConfig {
        let absolute = PathText.absolute(path, base: PathText.currentDirectory())
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(absolute, limit: 1 << 20)
        } catch {
            throw ConfigError(file: path, issues: [ConfigIssue("", error.reason)])
        }
        return try parse(String(decoding: bytes, as: UTF8.self), file: absolute)
    }

    /// Parses config text; relative paths are resolved against the folder of `file`.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> DaemonConfig {
        var issues: [ConfigIssue] = []
        let root = try ConfigError.root(text, file: file)
        let base = PathText.folder(of: file)
        var top = TableReader(root, path: "")
        let daemon = parseDaemon(top.subtable("daemon", &issues) ?? TOMLTable(), base: base, &issues)
        var chains: [ChainSettings] = []
        var broken: Set<String> = []
        if let table = top.subtable("chains", &issues) {
            var reader = TableReader(table, path: "chains")
            for name in table.keys.sorted() {
                guard let text = reader.string(name, &issues) else { continue }
                guard ChainSpec.isValidName(name) else {
                    issues.append(ConfigIssue("chains.\(name)", "chain names use letters, digits, _ and - only"))
                    broken.insert(name)
                    continue
                }
                do {
                    let spec = try ChainSpec.load(text, name: name, base: base)
                    try spec.chain.checkForImages()
                    chains.append(ChainSettings(name: name, text: text, spec: spec))
                } catch {
                    issues.append(ConfigIssue("chains.\(name)", "\(error)"))
                    broken.insert(name)
                }
            }
        }
        var models: [ModelSettings] = []
        if let table = top.subtable("models", &issues) {
            var reader = TableReader(table, path: "models")
            for name in table.keys.sorted() {
                guard let sub = reader.subtable(name, &issues) else { continue }
                if let model = parseModel(name, sub, base: base, &issues) { models.append(model) }
            }
        }
        var watches: [WatchSettings] = []
        if let array = top.array("watch", &issues) {
            for (i, item) in array.enumerated() {
                let path = "watch[\(i + 1)]"
                guard let table = item.table else {
                    issues.append(ConfigIssue(path, "expected a [[watch]] table"))
                    continue
                }
                if let watch = parseWatch(table, path: path, base: base, &issues) { watches.append(watch) }
            }
        }
        top.reportUnknown(&issues)
        let config = DaemonConfig(file: file, daemon: daemon, chains: chains, models: models, watches: watches)
        config.checkReferences(broken: broken, &issues)
        guard issues.isEmpty else { throw ConfigError(file: file, issues: issues) }
        return config
    }

    private static func parseDaemon(_ table: TOMLTable, base: String, _ issues: inout [ConfigIssue]) -> DaemonSettings {
        var r = TableReader(table, path: "daemon")
        let stateDir = r.string("state_dir", &issues).map { PathText.absolute($0, base: base) } ?? "/var/lib/convd"
        var settings = DaemonSettings(
            workers: r.int("workers", in: 1...256, &issues) ?? onlineCoreCount,
            stateDir: stateDir,
            classificationLog: r.string("classification_log", &issues).map { PathText.absolute($0, base: base) }
                ?? "/var/log/convd/classifications.jsonl",
            statusFile: r.string("status_file", &issues).map { PathText.absolute($0, base: base) }
                ?? stateDir + "/status.json",
            logFormat: r.choice("log_format", LogFormat.allCases.map(\.rawValue), &issues).flatMap(LogFormat.init)
                ?? .text,
            logLevel: r.choice("log_level", ["trace", "debug", "info", "notice", "warning", "error", "critical"],
                               &issues) ?? "info",
            maxJobBytes: r.int("max_job_bytes", in: (16 << 20)...(1 << 46), &issues),
            maxFileBytes: r.int("max_file_bytes", in: 1...(1 << 40), &issues) ?? ImageLimits.default.maxFileBytes,
            maxPixels: r.int("max_pixels", in: 1...(1 << 40), &issues) ?? ImageLimits.default.maxPixels,
            rescanInterval: r.seconds("rescan_interval", &issues) ?? 600,
            stopTimeout: r.seconds("stop_timeout", &issues) ?? 30,
            ledgerRetentionDays: r.int("ledger_retention", in: 1...36_500, &issues) ?? 30,
            ignore: r.strings("ignore", &issues) ?? [],
            sync: r.choice("sync", SyncMethod.allCases.map(\.rawValue), &issues).flatMap(SyncMethod.init) ?? .filesystem)
        parseFleet(&r, base: base, into: &settings, &issues)
        r.reportUnknown(&issues)
        return settings
    }

    /// `ledger`, `node_name`, `lease_seconds`, `metrics_file`.
    private static func parseFleet(_ r: inout TableReader, base: String, into settings: inout DaemonSettings,
                                   _ issues: inout [ConfigIssue]) {
        if let ledger = r.string("ledger", &issues) {
            if ledger == "sqlite" {
                settings.ledger = .sqlite
            } else if ledger.hasPrefix("postgresql://") || ledger.hasPrefix("postgres://") {
                settings.ledger = .postgres(ledger)
            } else {
                issues.append(ConfigIssue("daemon.ledger", "expected \"sqlite\" or a postgresql:// connection URI"))
            }
        }
        if let name = r.string("node_name", &issues) {
            let allowed = name.utf8.allSatisfy { $0 == 0x2D || $0 == 0x2E || $0 == 0x5F || (0x30...0x39).contains($0)
                || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
            if name.isEmpty || name.utf8.count > 64 || !allowed {
                issues.append(ConfigIssue("daemon.node_name", "1 to 64 letters, digits, '.', '-' or '_'"))
            } else {
                settings.nodeName = name
            }
        }
        if let lease = r.seconds("lease_seconds", &issues) {
            if lease < 1 || lease > 3600 {
                issues.append(ConfigIssue("daemon.lease_seconds", "between 1 and 3600 seconds"))
            } else {
                settings.leaseSeconds = lease
            }
        }
        settings.metricsFile = r.string("metrics_file", &issues).map { PathText.absolute($0, base: base) }
    }

    private static func parseModel(_ name: String, _ table: TOMLTable, base: String,
                                   _ issues: inout [ConfigIssue]) -> ModelSettings? {
        var r = TableReader(table, path: "models.\(name)")
        let path = r.string("path", &issues)
        let topK = r.int("top_k", in: 1...1000, &issues) ?? 3
        let config = r.string("config", &issues)
        r.reportUnknown(&issues)
        guard let path else {
            issues.append(ConfigIssue("models.\(name).path", "missing: the model's .safetensors or .onnx file"))
            return nil
        }
        if config != nil && !OnnxModelFile.isOnnx(path) {
            issues.append(ConfigIssue("models.\(name).config", "only ONNX models (.onnx) take a preprocessing .toml"))
        }
        return ModelSettings(name: name, path: PathText.absolute(path, base: base), topK: topK,
                             config: config.map { PathText.absolute($0, base: base) })
    }

    private static func parseWatch(_ table: TOMLTable, path: String, base: String,
                                   _ issues: inout [ConfigIssue]) -> WatchSettings? {
        var r = TableReader(table, path: path)
        let name = r.string("name", &issues)
        let input = r.string("input", &issues)
        let output = r.string("output", &issues)
        let chain = r.string("chain", &issues)
        let model = r.string("model", &issues)
        var formats: OutputFormats = [.png, .montage]
        if let list = r.strings("formats", &issues) {
            switch OutputFormats.parse(list.joined(separator: ",")) {
            case .success(let f): formats = f
            case .failure(let e): issues.append(ConfigIssue(r.keyPath("formats"), e.message))
            }
        }
        let watch = WatchSettings(
            name: name ?? "", input: input.map { PathText.absolute($0, base: base) } ?? "",
            output: output.map { PathText.absolute($0, base: base) } ?? "",
            chain: chain, model: model, formats: formats,
            recursive: r.bool("recursive", &issues) ?? true,
            pattern: r.string("pattern", &issues) ?? "*.png",
            after: r.choice("after", AfterAction.allCases.map(\.rawValue), &issues).flatMap(AfterAction.init) ?? .keep,
            doneDir: r.string("done_dir", &issues).map { PathText.absolute($0, base: base) },
            failedDir: r.string("failed_dir", &issues).map { PathText.absolute($0, base: base) },
            settleMs: r.int("settle_ms", in: 0...3_600_000, &issues) ?? 500,
            pngCompression: r.int("png_compression", in: 0...9, &issues) ?? 1,
            mode: r.choice("mode", WatchMode.allCases.map(\.rawValue), &issues).flatMap(WatchMode.init) ?? .auto,
            pollInterval: r.seconds("poll_interval", &issues) ?? 5,
            followSymlinks: r.bool("follow_symlinks", &issues) ?? false,
            ignore: r.strings("ignore", &issues) ?? [])
        r.reportUnknown(&issues)
        var missing: [String] = []
        if name == nil { missing.append("name") }
        if input == nil { missing.append("input") }
        if output == nil { missing.append("output") }
        if !missing.isEmpty {
            issues.append(ConfigIssue(path, "missing \(missing.joined(separator: ", "))"))
            return nil
        }
        return watch
    }

    /// Names, references and combinations that cannot work.
    /// `broken`: chains given but not usable (already reported), which watches may name.
    private func checkReferences(broken: Set<String>, _ issues: inout [ConfigIssue]) {
        var names: Set<String> = []
        for (i, w) in watches.enumerated() {
            let path = "watch[\(i + 1)]"
            if !ChainSpec.isValidName(w.name) {
                issues.append(ConfigIssue("\(path).name", "\"\(w.name)\": use letters, digits, _ and - only"))
            }
            if !names.insert(w.name).inserted {
                issues.append(ConfigIssue("\(path).name", "\"\(w.name)\" names another watch too"))
            }
            if w.chain == nil && w.model == nil {
                issues.append(ConfigIssue(path, "give a chain, a model or both"))
            }
            if let c = w.chain, chain(named: c) == nil, !broken.contains(c) {
                issues.append(ConfigIssue("\(path).chain", "unknown chain \"\(c)\" (chains: "
                                          + (chains.isEmpty ? "none" : chains.map(\.name).joined(separator: ", ")) + ")"))
            }
            if let m = w.model, model(named: m) == nil {
                issues.append(ConfigIssue("\(path).model", "unknown model \"\(m)\" (models: "
                                          + (models.isEmpty ? "none" : models.map(\.name).joined(separator: ", ")) + ")"))
            }
            if w.after == .move && w.doneDir == nil {
                issues.append(ConfigIssue("\(path).done_dir", "missing: after = \"move\" needs a done_dir"))
            }
            if w.pattern.isEmpty { issues.append(ConfigIssue("\(path).pattern", "must not be empty")) }
        }
        checkOverlaps(&issues)
    }
}
