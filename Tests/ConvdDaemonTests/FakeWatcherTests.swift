// The daemon driven by an event source of the test's own (the FileEventSource seam): events
// are hints, so whatever a watcher reports — paths outside the root, `..`, absolute paths
// elsewhere, files that are not there, the same file many times, an overflow — the daemon
// reads and writes only inside its roots and processes each version once. No inotify here:
// the test decides every event, so the outcome cannot depend on the kernel's timing.
import ConvdConfig
@testable import ConvdDaemon
import ConvdSystem
import ConvdTestSupport
import ConvdWatch
import Foundation
import Logging
import Synchronization
import Testing

/// Reports what the test tells it to; an added root is reported as listed and established.
final class FakeEventSource: FileEventSource, Sendable {
    let sink: @Sendable ([FileEvent]) -> Void
    let roots = Mutex<[WatchedRoot]>([])
    let rescans = Mutex<[Int]>([])

    init(sink: @escaping @Sendable ([FileEvent]) -> Void) { self.sink = sink }

    func add(_ root: WatchedRoot) {
        roots.withLock { $0.append(root) }
        sink([.folder(root: root.id, path: root.path), .established(root: root.id)])
    }
    func remove(rootID: Int) { roots.withLock { $0.removeAll { $0.id == rootID } } }
    func rescan(rootID: Int) {
        rescans.withLock { $0.append(rootID) }
        if let root = roots.withLock({ $0.first { $0.id == rootID } }) { sink([.folder(root: rootID, path: root.path)]) }
    }
    var heartbeat: Double { monotonicClock() }
    func stop() {}
    func emit(_ events: [FileEvent]) { sink(events) }
}

@Suite("Daemon driven by a fake watcher")
struct FakeWatcherTests {
    @Test("hostile event paths read nothing outside the watch; one version is processed once")
    func hostileEvents() async throws {
        let dir = TemporaryDirectory()
        for folder in ["in/sub", "out", "state", "log", "elsewhere"] {
            try FileManager.default.createDirectory(atPath: dir.file(folder), withIntermediateDirectories: true)
        }
        let png = try PNGFixture(width: 2, height: 2, colorType: .gray, bitDepth: 8, samples: [0, 1, 2, 3]).encoded()
        let secret = try dir.write("elsewhere/secret.png", png)
        _ = try dir.write("in/sub/a.png", png)
        let config = try DaemonConfig.parse("""
            [daemon]
            workers = 1
            state_dir = "state"
            classification_log = "log/classifications.jsonl"
            rescan_interval = 0
            [chains]
            gray = "gray"
            [[watch]]
            name = "w"
            input = "in"
            output = "out"
            chain = "gray"
            formats = ["npy"]
            mode = "inotify"
            settle_ms = 0
            """, file: dir.file("convd.toml"))
        let source = Mutex<FakeEventSource?>(nil)
        let daemon = try Daemon(config: config, pipelines: try Pipeline.resolveAll(config),
                                logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                                notifier: SystemdNotifier(environment: [:])) { sink in
            let fake = FakeEventSource(sink: sink)
            source.withLock { $0 = fake }
            return fake
        }
        let served = Task { await daemon.serve() }
        let input = dir.file("in")
        #expect(await Self.poll { source.withLock { $0?.roots.withLock { !$0.isEmpty } } == true })
        let fake = try #require(source.withLock { $0 })
        let id = try #require(fake.roots.withLock { $0.first?.id })
        fake.emit([.folder(root: id, path: input + "/sub")])
        #expect(await Self.poll { Self.lines(dir).count == 1 })
        // Now the hostile events; then a file that arrives after them is still served.
        fake.emit([
            .file(root: id, path: input + "/../elsewhere/secret.png", moved: true),
            .folder(root: id, path: input + "/.."),
            .folder(root: id, path: input + "/../elsewhere"),
            .file(root: id, path: secret, moved: true),
            .file(root: id, path: "/etc/passwd", moved: true),
            .file(root: id, path: input + "/sub/../../elsewhere/secret.png", moved: false),
            .file(root: id, path: input + "/missing.png", moved: true),
            .file(root: id, path: input + "/sub/a.png", moved: true),
            .file(root: id, path: input + "/sub/a.png", moved: false),
            .folder(root: id, path: input + "/sub"),
            .overflow,
        ])
        #expect(await Self.poll { fake.rescans.withLock { $0 } == [id] })
        _ = try dir.write("in/b.png", png)
        fake.emit([.file(root: id, path: input + "/b.png", moved: true)])
        #expect(await Self.poll { Self.lines(dir).count == 2 })
        daemon.requestStop()
        #expect(await served.value == 0)
        let lines = Self.lines(dir)
        #expect(lines.map { $0["file"] as? String } == [input + "/sub/a.png", input + "/b.png"])
        #expect(lines.allSatisfy { $0["outcome"] as? String == "ok" })
        #expect(try dir.listing("elsewhere") == ["secret.png"])
        #expect(try dir.listing("out/sub") == ["a.gray.npy"])
        #expect(try dir.listing("out").sorted() == ["b.gray.npy", "sub"])
    }

    /// Polls without blocking a thread of the pool the daemon's tasks run on.
    static func poll(timeout: Double = 20, _ condition: () -> Bool) async -> Bool {
        let deadline = monotonicClock() + timeout
        while monotonicClock() < deadline {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return condition()
    }

    static func lines(_ dir: TemporaryDirectory) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: dir.file("log/classifications.jsonl"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }
}
