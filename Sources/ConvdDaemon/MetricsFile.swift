// MetricsFile: `[daemon] metrics_file`, the Prometheus text format (exposition format 0.0.4)
// written atomically every few seconds for node_exporter's textfile collector — no port, so
// the unit keeps PrivateNetwork. Counters are this process's since it started (Prometheus
// handles the reset at a restart); gauges are the ledger's (the fleet's, with PostgreSQL).
// Every sample carries the node's name.
import ConvdSystem

/// What one watch did in this process.
struct WatchMetrics: Sendable {
    /// Upper bounds (seconds) of the latency buckets: discovery to log line.
    static let bounds: [Double] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

    var processed = 0
    var failed = 0
    var retries = 0
    /// Per bucket of `bounds` (not cumulative), plus the last for larger values.
    var buckets = [Int](repeating: 0, count: WatchMetrics.bounds.count + 1)
    var latencySum = 0.0

    mutating func observe(latency: Double) {
        let seconds = max(0, latency)
        buckets[WatchMetrics.bounds.firstIndex { seconds <= $0 } ?? WatchMetrics.bounds.count] += 1
        latencySum += seconds
    }

    var observations: Int { buckets.reduce(0, +) }
}

/// The text of the metrics file.
struct MetricsText {
    let node: String
    private var lines: [String] = []

    init(node: String) { self.node = node }

    /// `name{node="...",labels...}` with every label value escaped.
    private func series(_ name: String, _ labels: [(String, String)]) -> String {
        let all = [("node", node)] + labels
        return name + "{" + all.map { "\($0.0)=\"\(Self.escaped($0.1))\"" }.joined(separator: ",") + "}"
    }

    /// A label value: backslash, double quote and newline escaped.
    static func escaped(_ value: String) -> String {
        var out = ""
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func number(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    /// One metric family: its HELP and TYPE, then a sample per (labels, value).
    mutating func family(_ name: String, _ type: String, _ help: String, _ samples: [([(String, String)], Double)]) {
        lines.append("# HELP \(name) \(help)")
        lines.append("# TYPE \(name) \(type)")
        for (labels, value) in samples { lines.append("\(series(name, labels)) \(Self.number(value))") }
    }

    /// A histogram family over the watches.
    mutating func histogram(_ name: String, _ help: String, _ watches: [(String, WatchMetrics)]) {
        lines.append("# HELP \(name) \(help)")
        lines.append("# TYPE \(name) histogram")
        for (watch, m) in watches {
            var cumulative = 0
            for (i, bound) in WatchMetrics.bounds.enumerated() {
                cumulative += m.buckets[i]
                lines.append("\(series(name + "_bucket", [("watch", watch), ("le", Self.number(bound))])) \(cumulative)")
            }
            lines.append("\(series(name + "_bucket", [("watch", watch), ("le", "+Inf")])) \(m.observations)")
            lines.append("\(series(name + "_sum", [("watch", watch)])) \(Self.number(m.latencySum))")
            lines.append("\(series(name + "_count", [("watch", watch)])) \(m.observations)")
        }
    }

    var text: String { lines.joined(separator: "\n") + "\n" }
}

extension Daemon {
    /// The metrics file's text now.
    func metricsText() -> String {
        let node = config.withLock { $0.daemon.nodeName }
        let c = counters.withLock { $0 }
        let counts = (try? ledger.counts()) ?? [:]
        let names = table.all.map(\.settings.name).sorted()
        let watches = names.map { ($0, c.watchMetrics[$0] ?? WatchMetrics()) }
        var m = MetricsText(node: node)
        m.family("convd_files_processed_total", "counter", "Files whose outputs and log line this process committed.",
                 watches.map { ([("watch", $0.0)], Double($0.1.processed)) })
        m.family("convd_files_failed_total", "counter", "Files this process failed (log line written, input set aside).",
                 watches.map { ([("watch", $0.0)], Double($0.1.failed)) })
        m.family("convd_retries_total", "counter", "Jobs this process put back to wait after a transient failure.",
                 watches.map { ([("watch", $0.0)], Double($0.1.retries)) })
        m.family("convd_files_waiting", "gauge", "Files pending in the ledger (the fleet's with PostgreSQL).",
                 names.map { ([("watch", $0)], Double(counts[$0]?.pending ?? 0)) })
        m.family("convd_files_in_flight", "gauge", "Files being processed (the fleet's with PostgreSQL).",
                 names.map { ([("watch", $0)], Double(counts[$0]?.running ?? 0)) })
        m.family("convd_inotify_overflows_total", "counter", "inotify queue overflows (each followed by a rescan).",
                 [([], Double(c.overflows))])
        m.family("convd_rescans_total", "counter", "Rescans of the watches (after overflows and periodic).",
                 [([], Double(c.rescans))])
        m.histogram("convd_latency_seconds", "Seconds from a file's discovery to its classification log line.", watches)
        return m.text
    }

    /// Rewrites the metrics file, if one is configured.
    func writeMetrics() {
        guard let path = config.withLock({ $0.daemon.metricsFile }) else { return }
        do {
            try FileIO.writeAtomically(Array(metricsText().utf8), to: path)
        } catch {
            logger.debug("cannot write the metrics file: \(error)")
        }
    }
}
