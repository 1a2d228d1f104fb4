// The daemon takes files however they arrive — written in place, renamed in, written slowly,
// closed and reopened, in new subfolders, as a moved-in folder — and processes each version
// exactly once, after its last write. Run with inotify and with polling.
import ConvdTestSupport
import Foundation
import Testing

@Suite("Daemon: dropping files", .serialized)
struct DaemonDropTests {
    @Test("direct write, rename, slow writer, close-and-reopen writer: each once, after the last write",
          arguments: ["inotify", "poll"])
    func dropStyles(mode: String) throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig(mode: mode, settleMs: 800))
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        let direct = try DaemonFixtures.png(seed: 1), renamed = try DaemonFixtures.png(seed: 2)
        let slow = try DaemonFixtures.png(seed: 3, side: 40), reopened = try DaemonFixtures.png(seed: 4, side: 40)
        try d.write("in/direct.png", direct)
        try d.drop("in/renamed.png", renamed)
        // A slow writer: three writes with pauses shorter than settle_ms.
        _ = FileManager.default.createFile(atPath: d.path("in/slow.png"), contents: nil)
        let slowHandle = try #require(FileHandle(forWritingAtPath: d.path("in/slow.png")))
        let third = slow.count / 3
        for part in [slow[0..<third], slow[third..<2 * third], slow[(2 * third)...]] {
            slowHandle.write(Data(part))
            usleep(150_000)
        }
        try slowHandle.close()
        // A writer that closes and reopens: each close is an event, the settle time restarts.
        try Data(reopened[0..<reopened.count / 2]).write(to: URL(fileURLWithPath: d.path("in/reopened.png")))
        usleep(150_000)
        let again = try #require(FileHandle(forWritingAtPath: d.path("in/reopened.png")))
        again.seekToEndOfFile()
        again.write(Data(reopened[(reopened.count / 2)...]))
        try again.close()
        #expect(DaemonHarness.poll { d.logLines().count >= 4 }, "\(d.stderr)")
        // Nothing more arrives later.
        usleep(800_000)
        let lines = d.logLines()
        #expect(lines.count == 4, "\(lines)")
        #expect(lines.allSatisfy { $0["outcome"] as? String == "ok" }, "\(lines)")
        #expect(Set(DaemonFixtures.linesPerFile(lines).keys) == Set(["direct", "renamed", "slow", "reopened"]
            .map { d.path("in/\($0).png") }))
        // The slow files were read whole: their maps are 40×40 (.npy of 1×40×40 float32 = 6400 + header).
        for name in ["slow", "reopened"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: d.path("out/\(name).gray.npy"))[.size] as? Int) ?? 0
            #expect(size > 6400, "\(name): \(size) bytes")
        }
        #expect(lines.map { $0["seq"] as? Int ?? 0 } == [1, 2, 3, 4])
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }

    @Test("2,000 bursts of mkdir -p aN/b/c + write, and a moved-in folder of 500 PNGs (both sync methods)",
          arguments: [("inotify", "filesystem"), ("poll", "file")])
    func burstsAndMovedFolders(mode: String, sync: String) throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig(mode: mode, settleMs: 100,
                                                                     daemonExtra: "sync = \"\(sync)\""))
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        let image = try DaemonFixtures.png(seed: 9)
        let bursts = 2000
        for i in 0..<bursts {
            try FileManager.default.createDirectory(atPath: d.path("in/a\(i)/b/c"), withIntermediateDirectories: true)
            try Data(image).write(to: URL(fileURLWithPath: d.path("in/a\(i)/b/c/x.png")))
        }
        let staging = d.path("staging")
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        for i in 0..<500 { try Data(image).write(to: URL(fileURLWithPath: "\(staging)/p\(i).png")) }
        #expect(rename(staging, d.path("in/moved")) == 0)
        #expect(DaemonHarness.poll(timeout: 120) { d.logLines().count >= bursts + 500 }, "\(d.logLines().count) lines")
        usleep(500_000)
        let lines = d.logLines()
        #expect(lines.count == bursts + 500)
        #expect(DaemonFixtures.linesPerFile(lines).values.allSatisfy { $0 == 1 })
        #expect(FileManager.default.fileExists(atPath: d.path("out/a1999/b/c/x.gray.npy")))
        #expect(FileManager.default.fileExists(atPath: d.path("out/moved/p499.gray.npy")))
        let outputs = d.files(under: "out")
        #expect(outputs.count == bursts + 500, "one output per file, no temporary file left")
        #expect(!outputs.contains { $0.contains(".convd-tmp-") })
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }

    @Test("a folder renamed inside the watch keeps working under its new name; ignored names are skipped")
    func renamedFolder() throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig(settleMs: 0))
        try FileManager.default.createDirectory(atPath: d.path("in/old/sub"), withIntermediateDirectories: true)
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        #expect(rename(d.path("in/old"), d.path("in/new")) == 0)
        try d.drop("in/new/sub/x.png", DaemonFixtures.png(seed: 1))
        for ignored in ["in/new/.hidden.png", "in/new/y.png.tmp", "in/new/z.png~", "in/@eaDir/t.png"] {
            try d.write(ignored, DaemonFixtures.png(seed: 2))
        }
        try d.drop("in/new/last.png", DaemonFixtures.png(seed: 3))
        #expect(DaemonHarness.poll { d.logLines().count >= 2 }, "\(d.stderr)")
        usleep(300_000)
        #expect(Set(d.logLines().compactMap { $0["file"] as? String })
                == [d.path("in/new/sub/x.png"), d.path("in/new/last.png")])
        #expect(FileManager.default.fileExists(atPath: d.path("out/new/sub/x.gray.npy")))
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }

    @Test("files present at start are processed; a restart processes nothing twice")
    func startupScanAndRestart() throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig())
        for i in 0..<20 { try d.write("in/sub/f\(i).png", DaemonFixtures.png(seed: UInt64(i))) }
        try d.start()
        #expect(DaemonHarness.poll { d.logLines().count >= 20 }, "\(d.stderr)")
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        try d.drop("in/new.png", DaemonFixtures.png(seed: 99))
        #expect(DaemonHarness.poll { d.logLines().count >= 21 })
        usleep(500_000)
        #expect(d.logLines().count == 21)
        #expect(d.logLines().last?["file"] as? String == d.path("in/new.png"))
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }
}
