// DaemonConfig: the daemon's configuration (DESIGN.md §5), typed and with every default
// filled in. Paths are absolute: relative ones in the file are taken relative to the
// folder that holds the file. `etc/convd/convd.toml` documents each key.
import ConvdImage
#if canImport(Glibc)
import Glibc
#endif

/// The whole configuration.
public struct DaemonConfig: Sendable, Equatable {
    /// The file it was read from (absolute).
    public var file: String
    /// `[daemon]`.
    public var daemon: DaemonSettings
    /// `[chains]`, sorted by name.
    public var chains: [ChainSettings]
    /// `[models.NAME]`, sorted by name.
    public var models: [ModelSettings]
    /// `[[watch]]`, in file order.
    public var watches: [WatchSettings]

    /// The chain named `name`.
    public func chain(named name: String) -> ChainSettings? { chains.first { $0.name == name } }

    /// The model named `name`.
    public func model(named name: String) -> ModelSettings? { models.first { $0.name == name } }
}

/// Output format of the process's own log lines.
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}

/// How the committer makes a group of outputs durable before the ledger finishes their jobs.
public enum SyncMethod: String, Sendable, CaseIterable {
    /// Rename the group's outputs into place, then one syncfs(2) per output file system: one
    /// device flush for the group, and the folder entries are durable too. It also writes out
    /// whatever else is dirty on that file system.
    case filesystem
    /// fsync(2) each output before its rename: one device flush per file, nothing else touched.
    case file
}

/// `[daemon]`: settings of the whole process.
public struct DaemonSettings: Sendable, Equatable {
    /// Parallel jobs (default: the cores online).
    public var workers: Int
    /// Folder of the ledger (`ledger.sqlite`) and, by default, the status file.
    public var stateDir: String
    /// The classification log (JSON lines).
    public var classificationLog: String
    /// The status file `convd status` prints (default `<state_dir>/status.json`).
    public var statusFile: String
    /// `text` or `json` lines on stderr.
    public var logFormat: LogFormat
    /// Lowest level logged: trace, debug, info, notice, warning, error, critical.
    public var logLevel: String
    /// The most memory one job may take; nil: what keeps `workers` jobs inside the process's
    /// memory limit (MemoryBudget.defaultJobBytes).
    public var maxJobBytes: Int?
    /// Files larger than this are refused.
    public var maxFileBytes: Int
    /// Images with more pixels are refused before decoding.
    public var maxPixels: Int
    /// Seconds between safety rescans of every watch (0 = off).
    public var rescanInterval: Double
    /// Seconds SIGTERM waits for jobs in flight.
    public var stopTimeout: Double
    /// Days a finished file's ledger row is kept once its file is gone (rows of files still in
    /// the input tree stay: they keep them from being processed again).
    public var ledgerRetentionDays: Int
    /// Extra name patterns ignored in every watch.
    public var ignore: [String]
    /// How outputs are made durable: `filesystem` (default) or `file`.
    public var sync: SyncMethod = .filesystem
    /// Where the ledger lives: embedded SQLite, or a PostgreSQL database shared by a fleet.
    public var ledger: LedgerLocation = .sqlite
    /// This node's name in a fleet: unique per process sharing a ledger (default: host name).
    public var nodeName: String = DaemonSettings.defaultNodeName
    /// Seconds a claimed job's lease lasts without a heartbeat (PostgreSQL ledger).
    public var leaseSeconds: Double = 30
    /// A Prometheus text-format file rewritten every 5 seconds (nil: none).
    public var metricsFile: String?

    /// The host name, the default node name.
    public static var defaultNodeName: String {
        var buffer = [UInt8](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "convd" }
        let name = String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
        return name.isEmpty ? "convd" : name
    }
}

/// `[daemon] ledger`: where the ledger lives.
public enum LedgerLocation: Sendable, Equatable {
    /// `STATE_DIR/ledger.sqlite`: one host.
    case sqlite
    /// A libpq connection URI (`postgresql://USER@HOST/DB?...`): several hosts.
    case postgres(String)
}

/// `[chains]`: one entry.
public struct ChainSettings: Sendable, Equatable {
    /// The name watches use and output file names carry.
    public var name: String
    /// As written: inline chain text, or a `.chain` file's path.
    public var text: String
    /// The parsed chain (a relative `.chain` path is read from the config file's folder).
    public var spec: ChainSpec
}

/// `[models.NAME]`.
public struct ModelSettings: Sendable, Equatable {
    /// The name watches use.
    public var name: String
    /// The `.safetensors` or `.onnx` file.
    public var path: String
    /// Labels listed per image.
    public var topK: Int
    /// An ONNX model's preprocessing `.toml` (default: the model's path + `.toml`, if present).
    public var config: String?

    public init(name: String, path: String, topK: Int, config: String? = nil) {
        self.name = name
        self.path = path
        self.topK = topK
        self.config = config
    }
}

/// What happens to an input after it was processed.
public enum AfterAction: String, Sendable, CaseIterable {
    case keep, move, delete
}

/// How a watch learns about new files.
public enum WatchMode: String, Sendable, CaseIterable {
    /// inotify, except on network and FUSE file systems, which are polled.
    case auto
    case inotify
    case poll
}

/// `[[watch]]`: one input folder, its pipeline and its output folder.
public struct WatchSettings: Sendable, Equatable {
    public var name: String
    public var input: String
    public var output: String
    /// The chain's name in `[chains]`.
    public var chain: String?
    /// The model's name in `[models]`.
    public var model: String?
    /// What a chain writes.
    public var formats: OutputFormats
    public var recursive: Bool
    /// File name pattern (fnmatch, case-insensitive).
    public var pattern: String
    public var after: AfterAction
    public var doneDir: String?
    public var failedDir: String?
    /// Quiet time before a file that was written in place is read.
    public var settleMs: Int
    /// zlib level of the PNGs written (0–9).
    public var pngCompression: Int
    public var mode: WatchMode
    /// Seconds between listings when the watch is polled.
    public var pollInterval: Double
    public var followSymlinks: Bool
    /// Name patterns ignored besides the built-in ones.
    public var ignore: [String]
}
