// WatchTable: the watches of the running daemon — pipeline, name filter, how each is being
// watched — shared by the discovery thread, the workers and housekeeping under one lock.
// A reload replaces entries; each (re)started watch gets a new id, so events still queued
// for an old incarnation are recognised and dropped.
import ConvdConfig
import ConvdWatch
import Synchronization

/// How a watch is being watched.
enum WatchMode: Equatable, Sendable {
    case starting
    case inotify
    /// Listed every poll_interval, with the reason.
    case poll(String)
    /// The root is gone; checked every poll_interval until it is back.
    case degraded(String)

    var text: String {
        switch self {
        case .starting: return "starting"
        case .inotify: return "inotify"
        case .poll(let why): return "poll (\(why))"
        case .degraded(let why): return "degraded (\(why))"
        }
    }
}

/// One running watch.
struct WatchEntry: Sendable {
    var id: Int
    var pipeline: Pipeline
    var filter: NameFilter
    var mode: WatchMode
    /// Whether its first listing is complete (for READY=1 and --oneshot).
    var established = false
    /// Monotonic time of the next poll or root check.
    var nextCheck = 0.0

    var settings: WatchSettings { pipeline.watch }

    var root: WatchedRoot {
        WatchedRoot(id: id, path: settings.input, recursive: settings.recursive, filter: filter,
                    followSymlinks: settings.followSymlinks)
    }
}

final class WatchTable: Sendable {
    private let entries = Mutex<[String: WatchEntry]>([:])
    private let lastID = Mutex(0)

    /// Adds or replaces the watch of `pipeline`, returning its entry (with a new id).
    func insert(_ pipeline: Pipeline, extraIgnored: [String]) -> WatchEntry {
        let id = lastID.withLock { $0 += 1; return $0 }
        let filter = NameFilter(pattern: pipeline.watch.pattern, extraIgnored: extraIgnored + pipeline.watch.ignore)
        let entry = WatchEntry(id: id, pipeline: pipeline, filter: filter, mode: .starting)
        entries.withLock { $0[pipeline.watch.name] = entry }
        return entry
    }

    func remove(_ name: String) -> WatchEntry? { entries.withLock { $0.removeValue(forKey: name) } }

    func entry(named name: String) -> WatchEntry? { entries.withLock { $0[name] } }

    func entry(id: Int) -> WatchEntry? { entries.withLock { $0.values.first { $0.id == id } } }

    var all: [WatchEntry] { entries.withLock { Array($0.values).sorted { $0.settings.name < $1.settings.name } } }

    /// Changes the entry with `id` (if it still exists); returns the result.
    @discardableResult
    func update(id: Int, _ change: (inout WatchEntry) -> Void) -> WatchEntry? {
        entries.withLock { table in
            guard let name = table.first(where: { $0.value.id == id })?.key, var entry = table[name] else { return nil }
            change(&entry)
            table[name] = entry
            return entry
        }
    }
}
