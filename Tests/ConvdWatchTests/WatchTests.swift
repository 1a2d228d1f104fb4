// ConvdWatch: name filtering, folder walks, and the inotify watcher on a real temporary tree
// (a folder created with files already in it is watched, then listed, so nothing is missed).
import ConvdTestSupport
import ConvdWatch
import Foundation
import Synchronization
import Testing

@Suite("Watching")
struct WatchTests {
    @Test("ignored names and the file pattern (case-insensitive)")
    func names() {
        let filter = NameFilter(pattern: "*.png", extraIgnored: ["skip-*"])
        #expect(filter.accepts(file: "photo.png") && filter.accepts(file: "PHOTO.PNG"))
        for name in [".hidden.png", "a.png.tmp", "a.part", "x.crdownload", "a.png~", "Thumbs.db", "desktop.ini",
                     "@eaDir", ".photo.png.convd-tmp-12", "skip-this.png", "photo.jpg"] {
            #expect(!filter.accepts(file: name), "\(name)")
        }
        #expect(filter.ignores("@eaDir") && !filter.ignores("photos"))
    }

    @Test("folder walks list parents before children and skip ignored folders")
    func walk() throws {
        let dir = TemporaryDirectory()
        for folder in ["a/b", "a/c", ".hidden/x", "@eaDir"] {
            try FileManager.default.createDirectory(atPath: dir.file(folder), withIntermediateDirectories: true)
        }
        var seen: [String] = []
        FolderListing.folders(under: dir.path, recursive: true, filter: NameFilter(), followSymlinks: false) {
            seen.append(String($0.dropFirst(dir.path.count)))
            return true
        }
        #expect(seen == ["", "/a", "/a/b", "/a/c"])
    }

    @Test("inotify: established root, close-write and moved-in files, new folders listed after their watch")
    func inotify() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("root/old"), withIntermediateDirectories: true)
        let events = Mutex<[FileEvent]>([])
        let watcher = InotifyWatcher { batch in events.withLock { $0 += batch } }
        defer { watcher.stop() }
        let root = dir.file("root")
        watcher.add(WatchedRoot(id: 7, path: root, recursive: true, filter: NameFilter()))
        #expect(DaemonHarness.poll(timeout: 10) { events.withLock { $0.contains(.established(root: 7)) } })
        #expect(events.withLock { $0.contains(.folder(root: 7, path: root + "/old")) })
        try dir.write("root/a.png", [1])
        try dir.write("root/.b.png.part", [1])
        #expect(rename(dir.file("root/.b.png.part"), dir.file("root/b.png")) == 0)
        try FileManager.default.createDirectory(atPath: dir.file("staging/deep"), withIntermediateDirectories: true)
        try dir.write("staging/deep/c.png", [1])
        #expect(rename(dir.file("staging"), dir.file("root/new")) == 0)
        #expect(DaemonHarness.poll(timeout: 10) {
            events.withLock {
                $0.contains(.file(root: 7, path: root + "/a.png", moved: false))
                    && $0.contains(.file(root: 7, path: root + "/b.png", moved: true))
                    && $0.contains(.folder(root: 7, path: root + "/new/deep"))
            }
        })
        #expect(!events.withLock { $0.contains { if case .file(_, let p, _) = $0 { p.hasSuffix(".part") } else { false } } })
        // A file written in the moved-in folder now arrives as an event.
        try dir.write("root/new/deep/d.png", [1])  // the folder exists: moved in above
        #expect(DaemonHarness.poll(timeout: 10) {
            events.withLock { $0.contains(.file(root: 7, path: root + "/new/deep/d.png", moved: false)) }
        })
        try FileManager.default.removeItem(atPath: root)
        #expect(DaemonHarness.poll(timeout: 10) {
            events.withLock { $0.contains { if case .rootLost(7, _) = $0 { true } else { false } } }
        })
    }
}
