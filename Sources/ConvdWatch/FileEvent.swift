// FileEvent: what a watcher reports. Events are hints: the daemon lists the folders named by
// `.folder` and checks every file against its ledger, so a missed or repeated event costs a
// listing, never a lost or doubled job.

/// One thing a watcher noticed. `root` is the id the daemon gave the watched root.
public enum FileEvent: Sendable, Equatable {
    /// A file was closed after writing (`moved == false`) or renamed into a watched folder
    /// (`moved == true`: complete at once, no settle time needed).
    case file(root: Int, path: String, moved: Bool)
    /// A folder is watched now (or is polled): list its files.
    case folder(root: Int, path: String)
    /// Every folder of the root is watched and has been reported with `.folder`.
    case established(root: Int)
    /// The kernel's event queue overflowed: events were lost, every root needs a rescan.
    case overflow
    /// The root folder is gone (deleted or renamed away), or could not be watched.
    case rootLost(root: Int, reason: String)
    /// No more inotify watches (`ENOSPC` from inotify_add_watch) at `path`.
    case watchLimit(root: Int, path: String)
    /// A folder in `path` cannot be watched (its name is not UTF-8): poll the root.
    case unwatchable(root: Int, path: String, reason: String)
}

/// A folder tree to watch.
public struct WatchedRoot: Sendable, Equatable {
    /// The daemon's id for the root.
    public var id: Int
    /// Absolute path of the root folder.
    public var path: String
    /// Whether subfolders are watched.
    public var recursive: Bool
    /// Which names count.
    public var filter: NameFilter
    /// Whether symlinked folders are entered.
    public var followSymlinks: Bool

    /// A root.
    public init(id: Int, path: String, recursive: Bool, filter: NameFilter, followSymlinks: Bool = false) {
        self.id = id
        self.path = path
        self.recursive = recursive
        self.filter = filter
        self.followSymlinks = followSymlinks
    }
}

/// Anything that reports file events for roots: inotify, or a fake in tests.
public protocol FileEventSource: AnyObject, Sendable {
    /// Starts watching `root`; reports `.folder` for each of its folders, then `.established`.
    func add(_ root: WatchedRoot)
    /// Stops watching the root with this id.
    func remove(rootID: Int)
    /// Re-walks a root: adds any missing watch and reports every folder again.
    func rescan(rootID: Int)
    /// When the source last showed it is alive (monotonic seconds).
    var heartbeat: Double { get }
    /// Stops the source; no events are reported afterwards.
    func stop()
}
