// The discovery thread: turns watcher events and poll walks into ledger rows. Events are
// hints — a `.folder` is answered by listing it, a `.file` by a stat — and the ledger decides
// what is new, so repeated events and rescans of a finished tree enqueue nothing.
import ConvdConfig
import ConvdSystem
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
                if found.count >= 256 { commit(&found) }
            }
            commit(&found)
        }
    }

    /// Writes what was found to the ledger (a watch counts as established only after this).
    /// In a fleet, only the node that lists a watch records what it found there.
    private func commit(_ found: inout [Discovery]) {
        guard !found.isEmpty else { return }
        found.removeAll { !ledger.lists(watch: $0.watch) }
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
            walk(entry, into: &found)
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
            guard let entry = table.entry(id: id), let relative = relativeBytes(path, entry) else { return }
            var folders = relative.split(separator: 0x2F, omittingEmptySubsequences: false).map(Array.init)
            let name = folders.removeLast()
            guard let folder = try? Directory.open(entry.settings.input).descend(folders) else { return }
            guard let version = version(of: name, in: folder, entry) else { return }
            let now = wallClock()
            let settle = Double(entry.settings.settleMs) / 1000
            found.append(Discovery(watch: entry.settings.name, path: PathKey.key(relative), version: version,
                                   moved: moved, readyAt: moved ? now : now + settle))
        case .folder(let id, let path):
            guard let entry = table.entry(id: id), let relative = relativeBytes(path, entry) else { return }
            let folders = relative.isEmpty ? [] : relative.split(separator: 0x2F, omittingEmptySubsequences: false).map(Array.init)
            guard let folder = try? Directory.open(entry.settings.input).descend(folders) else { return }
            list(folder, relative: relative, of: entry, into: &found)
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
        case .unwatchable(let id, let path, let reason):
            watcher?.remove(rootID: id)
            guard let entry = table.update(id: id, { $0.mode = .poll(reason) }) else { return }
            logger.warning("cannot watch a folder with inotify; polling this watch instead",
                           metadata: ["watch.name": "\(entry.settings.name)", "folder": "\(path)", "reason": "\(reason)"])
            events.append([.walk(rootID: id)])
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

    /// Every folder of the watch's tree, from the root, one component at a time without
    /// following symlinks, each folder entered once (device, inode).
    private func walk(_ entry: WatchEntry, into found: inout [Discovery]) {
        guard let root = try? Directory.open(entry.settings.input) else { return }
        var visited = Set<FolderIdentity>()
        var stack: [(Directory, [UInt8])] = [(root, [])]
        while let (folder, relative) = stack.popLast() {
            var info = stat()
            guard fstat(folder.fd, &info) == 0, visited.insert(FolderIdentity(info)).inserted else { continue }
            let entries = list(folder, relative: relative, of: entry, into: &found)
            if found.count >= 2000 { commit(&found) }
            guard entry.settings.recursive else { break }
            for item in entries.reversed() where item.kind == .folder && !entry.filter.ignores(PathKey.key(item.name)) {
                guard let sub = try? folder.subfolder(item.name) else { continue }
                stack.append((sub, relative.isEmpty ? item.name : relative + [0x2F] + item.name))
            }
        }
    }

    /// The files of one folder (not its subfolders) that the watch takes; returns its entries.
    @discardableResult
    private func list(_ folder: Directory, relative: [UInt8], of entry: WatchEntry,
                      into found: inout [Discovery]) -> [Directory.Entry] {
        guard let entries = folder.entries() else { return [] }
        let now = wallClock()
        let settle = Double(entry.settings.settleMs) / 1000
        for item in entries where item.kind == .file || item.kind == .symlink {
            guard entry.filter.accepts(file: PathKey.key(item.name)), let version = version(of: item.name, in: folder, entry)
            else { continue }
            let path = relative.isEmpty ? item.name : relative + [0x2F] + item.name
            found.append(Discovery(watch: entry.settings.name, path: PathKey.key(path), version: version, moved: false,
                                   readyAt: max(now, version.mtime + settle)))
        }
        return entries
    }

    /// The version of `name`: of what a symlink points to when the watch follows them (a link
    /// to anything but a regular file is recorded as the link, and fails when processed).
    private func version(of name: [UInt8], in folder: Directory, _ entry: WatchEntry) -> FileVersion? {
        guard let own = folder.status(name) else { return nil }
        let kind = own.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFLNK else { return nil }
        if kind == S_IFLNK && entry.settings.followSymlinks, let target = folder.status(name, follow: true),
           (target.st_mode & S_IFMT) == S_IFREG {
            return FileVersion(stat: target)
        }
        return FileVersion(stat: own)
    }

    /// `path` (from the watcher, below the input root) relative to the root, as bytes.
    private func relativeBytes(_ path: String, _ entry: WatchEntry) -> [UInt8]? {
        let root = Array(entry.settings.input.utf8), full = Array(path.utf8)
        if full == root { return [] }
        guard full.count > root.count + 1, full.starts(with: root), full[root.count] == 0x2F else { return nil }
        return Array(full[(root.count + 1)...])
    }

    /// A finished version still in the input tree although its watch moves or deletes
    /// inputs: a crash came between finishing it and its after-action. Finish that now.
    private func finishInterruptedAfterAction(_ item: FinishedVersion) {
        guard let entry = table.entry(named: item.discovery.watch) else { return }
        if item.failed {
            guard entry.settings.failedDir != nil else { return }
            placeFailed(item.discovery.path, expected: .inode(item.discovery.version.inode), reason: item.reason ?? "failed",
                        entry: entry)
        } else if entry.settings.after != .keep {
            applyAfterAction(item.discovery.path, expected: .inode(item.discovery.version.inode), entry: entry)
        }
    }
}

/// A folder's identity: a walk enters each (device, inode) once.
struct FolderIdentity: Hashable {
    let device: UInt64
    let inode: UInt64

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
