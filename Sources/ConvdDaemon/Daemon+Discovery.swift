// The discovery thread: turns watcher events and poll walks into ledger rows. Events are
// hints — a `.folder` is answered by listing it, a `.file` by a stat — and the ledger decides
// what is new, so repeated events and rescans of a finished tree enqueue nothing.
import ConvdConfig
import ConvdWatch
import Foundation
import Logging

extension Daemon {
    func discoveryLoop() {
        var found: [Discovery] = []
        while let batch = events.take(timeout: 0.5) {
            counters.withLock { $0.discoveryBeat = monotonicClock() }
            for event in batch {
                handle(event, into: &found)
                if found.count >= 2000 { commit(&found) }
            }
            commit(&found)
        }
    }

    /// Writes what was found to the ledger (a watch counts as established only after this).
    private func commit(_ found: inout [Discovery]) {
        guard !found.isEmpty else { return }
        do {
            let (added, finished) = try ledger.record(found)
            if added > 0 { scheduler.wake() }
            for item in finished { finishInterruptedAfterAction(item) }
        } catch {
            logger.error("ledger: cannot record discovered files: \(error)")
        }
        found.removeAll(keepingCapacity: true)
    }

    private func handle(_ event: DaemonEvent, into found: inout [Discovery]) {
        switch event {
        case .walk(let id):
            guard let entry = table.entry(id: id) else { return }
            guard FolderListing.kind(of: entry.settings.input, follow: true) == .folder else {
                markDegraded(id, reason: "input folder \(entry.settings.input) is missing")
                return
            }
            FolderListing.folders(under: entry.settings.input, recursive: entry.settings.recursive, filter: entry.filter,
                                  followSymlinks: entry.settings.followSymlinks) { folder in
                list(folder, of: entry, into: &found)
                if found.count >= 2000 { commit(&found) }
                return true
            }
            commit(&found)
            table.update(id: id) {
                $0.established = true
                $0.nextCheck = monotonicClock() + $0.settings.pollInterval
            }
        case .watch(let fileEvent):
            handle(fileEvent, into: &found)
        }
    }

    private func handle(_ event: FileEvent, into found: inout [Discovery]) {
        switch event {
        case .file(let id, let path, let moved):
            guard let entry = table.entry(id: id), let version = FileVersion(path: path) else { return }
            let now = wallClock()
            let settle = Double(entry.settings.settleMs) / 1000
            found.append(Discovery(watch: entry.settings.name, path: relative(path, entry), version: version,
                                   moved: moved, readyAt: moved ? now : now + settle))
        case .folder(let id, let path):
            guard let entry = table.entry(id: id) else { return }
            list(path, of: entry, into: &found)
        case .established(let id):
            commit(&found)
            // A watch switched to polling during its walk (out of watches) stays polled.
            guard let entry = table.update(id: id, { entry in
                if entry.mode == .starting { entry.mode = .inotify }
                entry.established = true
            }), entry.mode == .inotify else { return }
            logger.info("watching", metadata: ["watch.name": "\(entry.settings.name)", "input": "\(entry.settings.input)"])
        case .overflow:
            let count = counters.withLock { c in c.overflows += 1; c.rescans += 1; return c.overflows }
            logger.warning("inotify queue overflowed: events were lost; rescanning every watch",
                           metadata: ["overflows": "\(count)"])
            for entry in table.all where entry.mode == .inotify { watcher?.rescan(rootID: entry.id) }
        case .rootLost(let id, let reason):
            watcher?.remove(rootID: id)
            markDegraded(id, reason: "input folder \(reason)")
        case .watchLimit(let id, let path):
            let limit = (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_user_watches", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            watcher?.remove(rootID: id)
            guard let entry = table.update(id: id, { $0.mode = .poll("out of inotify watches") }) else { return }
            logger.error("""
                out of inotify watches at \(path) (fs.inotify.max_user_watches = \(limit)); polling this watch \
                instead. To raise the limit: echo 'fs.inotify.max_user_watches = 524288' > \
                /etc/sysctl.d/90-convd.conf && sysctl --system
                """, metadata: ["watch.name": "\(entry.settings.name)"])
            events.append([.walk(rootID: id)])
        }
    }

    /// The files of one folder (not its subfolders) that the watch takes.
    private func list(_ folder: String, of entry: WatchEntry, into found: inout [Discovery]) {
        guard let listing = FolderListing(folder) else { return }
        let now = wallClock()
        let settle = Double(entry.settings.settleMs) / 1000
        for item in listing.entries where item.kind == .file || item.kind == .symlink {
            guard entry.filter.accepts(file: item.name), let version = FileVersion(path: folder + "/" + item.name) else {
                continue
            }
            found.append(Discovery(watch: entry.settings.name, path: relative(folder + "/" + item.name, entry),
                                   version: version, moved: false, readyAt: max(now, version.mtime + settle)))
        }
    }

    private func relative(_ path: String, _ entry: WatchEntry) -> String {
        String(path.dropFirst(entry.settings.input.count + 1))
    }

    /// A finished version still in the input tree although its watch moves or deletes
    /// inputs: a crash came between finishing it and its after-action. Finish that now.
    private func finishInterruptedAfterAction(_ item: FinishedVersion) {
        guard let entry = table.entry(named: item.discovery.watch) else { return }
        if item.failed {
            guard entry.settings.failedDir != nil else { return }
            placeFailed(item.discovery.path, reason: item.reason ?? "failed", entry: entry)
        } else if entry.settings.after != .keep {
            applyAfterAction(item.discovery.path, entry: entry)
        }
    }
}
