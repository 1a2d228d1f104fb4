// Retention: the ledger keeps a finished row for `ledger_retention` days after the file left
// the input tree, and for as long as the file is still there (that row is what keeps it from
// being processed again). Housekeeping prunes a few hundred rows a minute, so the ledger stays
// bounded without a long lock (audit #12).
import ConvdSystem
import ConvdWatch
import Logging
#if canImport(Glibc)
import Glibc
#endif

extension Daemon {
    /// Rows looked at per round.
    static let pruneBatch = 500

    /// Prunes one batch; returns how many rows were deleted.
    @discardableResult
    func pruneLedger(now: Double) -> Int {
        let days = config.withLock { $0.daemon.ledgerRetentionDays }
        do {
            let candidates = try ledger.pruneCandidates(before: now - Double(days) * 86_400, limit: Self.pruneBatch)
            guard !candidates.isEmpty else { return 0 }
            var drop: [Int64] = [], keep: [Int64] = []
            for (id, found) in candidates {
                if isStillPresent(found) { keep.append(id) } else { drop.append(id) }
            }
            try ledger.prune(drop: drop, keep: keep)
            if !drop.isEmpty { logger.debug("ledger pruned", metadata: ["rows": "\(drop.count)"]) }
            return drop.count
        } catch {
            logger.error("ledger: cannot prune: \(error)")
            return 0
        }
    }

    /// Whether the version is still in its watch's input tree (or its watch is not running:
    /// then it is kept until the watch comes back and can tell).
    private func isStillPresent(_ found: Discovery) -> Bool {
        guard let entry = table.entry(named: found.watch) else { return true }
        guard let path = RelativePath(key: found.path) else { return false }
        guard let folder = try? OutputTree.folder(root: entry.settings.input, path, create: false) else {
            // A subfolder gone: so is the file. The whole root gone (unmounted?): keep the row.
            return FolderListing.kind(of: entry.settings.input, follow: true) != .folder
        }
        guard let info = folder.status(path.name, follow: entry.settings.followSymlinks) else { return false }
        let version = FileVersion(stat: info)
        // In a fleet the inode another host saw is not this host's: size and mtime decide.
        return version.size == found.version.size && version.mtimeNs == found.version.mtimeNs
            && (!ledger.keysInode || version.inode == found.version.inode)
    }
}
