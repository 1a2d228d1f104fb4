// Bad inputs fail alone: each goes to failed_dir with NAME.error.txt and one "failed" log
// line, the daemon keeps serving; symlinks are refused; `convd retry` runs a file again.
import ConvdTestSupport
import Foundation
import Testing

@Suite("Daemon: bad input", .serialized)
struct DaemonFailureTests {
    /// A valid 28×28 PNG whose IHDR is rewritten to claim 100,000 × 100,000 pixels.
    static func hugeHeader() throws -> [UInt8] {
        PNGChunks.withDimensions(try DaemonFixtures.png(seed: 8, side: 28), width: 100_000, height: 100_000)
    }

    @Test("corrupt PNG, non-PNG, zero bytes, huge dimensions: failed_dir with the reason; the next good file is served",
          arguments: ["inotify", "poll"])
    func badFiles(mode: String) throws {
        let d = try DaemonHarness(config: DaemonFixtures.modelConfig(watchExtra: "mode = \"\(mode)\"\npoll_interval = 0.2"))
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        var corrupt = try DaemonFixtures.png(seed: 5, side: 28)
        corrupt.removeLast(30)
        let bad: [(String, [UInt8])] = [("corrupt.png", corrupt), ("text.png", Array("hello, not a png\n".utf8)),
                                        ("empty.png", []), ("huge.png", try Self.hugeHeader())]
        for (name, bytes) in bad { try d.drop("in/\(name)", bytes) }
        let shoe = try [UInt8](Data(contentsOf: URL(fileURLWithPath:
            "\(DaemonFixtures.repository)/samples/images/fashion-sneaker.png")))
        try d.drop("in/good.png", shoe)
        #expect(DaemonHarness.poll { d.logLines().count >= 5 }, "\(d.stderr)")
        let lines = d.logLines()
        #expect(lines.count == 5)
        let good = try #require(lines.first { $0["file"] as? String == d.path("in/good.png") })
        #expect(good["outcome"] as? String == "ok")
        #expect(good["label"] as? String == "Sneaker")
        #expect((good["top"] as? [[Any]])?.count == 3)
        #expect(FileManager.default.fileExists(atPath: d.path("out/good.label.json")))
        // The log line is written first; the file is set aside right after it.
        #expect(DaemonHarness.poll { bad.allSatisfy { FileManager.default.fileExists(atPath: d.path("failed/\($0.0).error.txt")) } })
        for (name, _) in bad {
            let line = try #require(lines.first { $0["file"] as? String == d.path("in/\(name)") })
            #expect(line["outcome"] as? String == "failed")
            #expect(FileManager.default.fileExists(atPath: d.path("failed/\(name)")), "\(name)")
            let reason = (try? String(contentsOfFile: d.path("failed/\(name).error.txt"), encoding: .utf8)) ?? ""
            #expect(reason.contains(d.path("in/\(name)")), "\(name): \(reason)")
            #expect(reason == (line["reason"] as? String ?? "") + "\n")
            #expect(!FileManager.default.fileExists(atPath: d.path("in/\(name)")))
        }
        let huge = (try? String(contentsOfFile: d.path("failed/huge.png.error.txt"), encoding: .utf8)) ?? ""
        #expect(huge.contains("limit"), "\(huge)")
        #expect(d.isRunning)
        // retry: the file goes back to the input tree and is processed again (and fails again).
        let retry = try ConvdBinary.run(["retry", "--config", d.configPath, d.path("failed/text.png")])
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(DaemonHarness.poll { d.logLines().count >= 6 }, "\(d.stderr)")
        #expect(d.logLines().last?["file"] as? String == d.path("in/text.png"))
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }

    @Test("a symlink pointing outside the watch is refused; nothing is written outside the output roots")
    func symlinkRefused() throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig())
        let outside = d.path("elsewhere/secret.png")
        try d.write("elsewhere/secret.png", DaemonFixtures.png(seed: 3))
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        #expect(symlink(outside, d.path("in/link.png")) == 0)
        // A symlinked folder in the output tree must not redirect writes either.
        try FileManager.default.createDirectory(atPath: d.path("in/sub"), withIntermediateDirectories: true)
        #expect(symlink(d.path("elsewhere"), d.path("out/sub")) == 0)
        try d.drop("in/sub/ok.png", DaemonFixtures.png(seed: 4))
        // The link is found by the next listing (a symlink makes no close-write event).
        try d.drop("in/trigger.png", DaemonFixtures.png(seed: 6))
        #expect(DaemonHarness.poll { d.logLines().count >= 1 }, "\(d.stderr)")
        let retry = try ConvdBinary.run(["retry", "--config", d.configPath, d.path("in/link.png")])
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(DaemonHarness.poll { d.logLines().count >= 2 }, "\(d.stderr)")
        #expect(DaemonHarness.poll { d.stderr.contains("refusing to go through it") }, "\(d.stderr)")
        let link = d.logLines().first { $0["file"] as? String == d.path("in/link.png") }
        #expect(link?["outcome"] as? String == "failed")
        let reason = link?["reason"] as? String ?? ""
        #expect(reason.contains("symbolic link"))
        // ok.png waits (its output folder is a symlink): no line, nothing written through the link.
        #expect(d.logLines().count == 2)
        #expect(try d.root.listing("elsewhere") == ["secret.png"])
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }
}
