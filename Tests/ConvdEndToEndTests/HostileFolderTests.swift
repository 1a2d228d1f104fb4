// The security audit's findings, reproduced against the real daemon: whoever writes into a
// watched folder controls every byte, name and folder layout. Nothing outside the watch may be
// read, moved or deleted; no name may forge a log line, a datagram or terminal output; no file
// may loop, hang or crash-loop the daemon.
import ConvdTestSupport
import Foundation
import Testing

/// What a file outside the watch is: its bytes and mtime, to check it is untouched.
private struct Fingerprint: Equatable {
    let bytes: Data?
    let mtime: Date?

    init(_ path: String) {
        bytes = FileManager.default.contents(atPath: path)
        mtime = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}

/// Creates a file whose path holds arbitrary bytes (names need not be UTF-8).
private func writeRaw(_ path: [UInt8], _ contents: [UInt8]) -> Bool {
    let fd = (path + [0]).withUnsafeBufferPointer {
        $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
    }
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == contents.count
}

@Suite("Daemon: hostile folders", .serialized)
struct HostileFolderTests {
    static func config(after: String, settleMs: Int = 200, extra: String = "") -> String {
        DaemonFixtures.chainConfig(settleMs: settleMs, watchExtra: """
            after = "\(after)"
            done_dir = "@ROOT@/done"
            \(extra)
            """)
    }

    @Test("a folder named U+0301+e beside a symlink e -> outside: the real folder is processed, nothing outside is touched",
          arguments: ["keep", "move", "delete"])
    func combiningMarkFolder(after: String) throws {
        let d = try DaemonHarness(config: Self.config(after: after))
        let secrets = ["outside/w.png", "outside/notpng.png"]
        try d.write(secrets[0], DaemonFixtures.png(seed: 1, side: 16))
        try d.write(secrets[1], Array("not a png".utf8))
        let before = secrets.map { Fingerprint(d.path($0)) }
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        #expect(symlink(d.path("outside"), d.path("in/e")) == 0)
        try d.write("in/.stage/w.png", DaemonFixtures.png(seed: 2, side: 8))
        #expect(rename(d.path("in/.stage"), d.path("in/\u{301}e")) == 0)
        #expect(DaemonHarness.poll { d.logLines().count >= 1 }, "\(d.stderr)")
        usleep(500_000)
        let lines = d.logLines()
        #expect(lines.count == 1)
        #expect(lines.first?["file"] as? String == d.path("in/\u{301}e/w.png"))
        #expect(lines.first?["outcome"] as? String == "ok", "\(lines)")
        #expect(secrets.map { Fingerprint(d.path($0)) } == before)
        #expect(try d.root.listing("outside") == ["notpng.png", "w.png"])
        #expect(!FileManager.default.fileExists(atPath: d.path("out/e")))
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }

    @Test("a folder swapped for a symlink within settle_ms: refused, failed with the reason, nothing outside touched",
          arguments: ["keep", "move", "delete"])
    func swappedFolder(after: String) throws {
        let d = try DaemonHarness(config: Self.config(after: after, settleMs: 800))
        try d.write("outside/y.png", DaemonFixtures.png(seed: 3, side: 16))
        let before = Fingerprint(d.path("outside/y.png"))
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        try d.write("in/d/y.png", DaemonFixtures.png(seed: 4, side: 8))
        usleep(100_000)
        #expect(rename(d.path("in/d"), d.path("in/.d")) == 0)
        #expect(symlink(d.path("outside"), d.path("in/d")) == 0)
        #expect(DaemonHarness.poll { d.logLines().count >= 1 }, "\(d.stderr)")
        let line = try #require(d.logLines().first)
        #expect(line["outcome"] as? String == "failed")
        let reason = line["reason"] as? String ?? ""
        #expect(reason.contains("not a folder (a symlink or file is in the way)"), "\(reason)")
        usleep(300_000)
        #expect(Fingerprint(d.path("outside/y.png")) == before)
        #expect(try d.root.listing("outside") == ["y.png"])
        #expect(d.files(under: "done").isEmpty && d.files(under: "failed").isEmpty)
        #expect(d.isRunning)
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }

    @Test("newlines and escape sequences in names: no forged datagram, log line or terminal output; long names fail once")
    func injection() throws {
        let d = try DaemonHarness(config: Self.config(after: "keep"))
        let socket = try NotifySocket(path: d.path("notify.sock"))
        defer { socket.close() }
        try d.start(environment: ["NOTIFY_SOCKET": socket.path])
        #expect(DaemonHarness.poll { socket.messages.contains { $0.hasPrefix("READY=1") } }, "\(d.stderr)")
        let forged = "x\nWATCHDOG=trigger\nSTOPPING=1\n" + String(repeating: "M", count: 220) + ".png"
        let terminal = "\u{1b}]0;owned\u{7}\u{1b}[1;31mFAKE\n2026-12-02T07:00:00.000Z critical ledger corrupted "
            + String(repeating: "T", count: 160) + ".png"
        // 254 bytes: the file exists, but `<stem>.gray.npy` would be 259, over NAME_MAX.
        let long = String(repeating: "L", count: 250) + ".png"
        for name in [forged, terminal, long] {
            #expect(writeRaw(Array(d.path("in/\(name)").utf8), try DaemonFixtures.png(seed: 5, side: 8)), "\(name)")
        }
        try d.drop("in/good.png", DaemonFixtures.png(seed: 6, side: 8))
        #expect(DaemonHarness.poll { d.logLines().count >= 4 }, "\(d.stderr)")
        usleep(1_500_000)  // several status rounds
        let lines = d.logLines()
        #expect(lines.count == 4, "each file once, none retried")
        let terminalLine = lines.first { ($0["file"] as? String ?? "").contains(String(terminal.suffix(12))) }
        #expect(terminalLine?["outcome"] as? String == "ok")
        #expect((terminalLine?["file"] as? String)?.contains("\\x1b]0;owned\\x07") == true)
        for name in [forged, long] {
            let line = lines.first { ($0["file"] as? String ?? "").contains(String(name.suffix(12))) }
            #expect(line?["outcome"] as? String == "failed", "\(name)")
            let reason = line?["reason"] as? String ?? ""
            #expect(reason.contains("File name too long"), "\(reason)")
        }
        #expect(lines.contains { $0["file"] as? String == d.path("in/good.png") && $0["outcome"] as? String == "ok" })
        // sd_notify: every line of every datagram is one of ours.
        for message in socket.messages {
            for field in message.split(separator: "\n") {
                #expect(["READY=1", "STATUS=", "MAINPID=", "WATCHDOG=1", "RELOADING=1", "MONOTONIC_USEC=", "STOPPING=1",
                         "EXTEND_TIMEOUT_USEC="].contains { field.hasPrefix($0) }, "\(field)")
                #expect(!field.hasPrefix("STOPPING=1") || message.hasPrefix("STOPPING=1"), "forged STOPPING in \(message)")
            }
        }
        // The text log: every line is one entry with a timestamp, no ESC or BEL bytes.
        let log = d.stderr
        #expect(!log.unicodeScalars.contains { $0 == "\u{1b}" || $0 == "\u{7}" })
        for entry in log.split(separator: "\n") { #expect(entry.hasPrefix("20") && entry.dropFirst(23).hasPrefix("Z "), "\(entry)") }
        #expect(!log.contains("\n2026-12-02T07:00:00.000Z critical"))
        // convd status: nothing for the terminal to act on.
        let status = try ConvdBinary.run(["status", "--config", d.configPath])
        #expect(!status.stdout.unicodeScalars.contains { $0 == "\u{1b}" || $0 == "\u{7}" }, "\(status.stdout)")
        // The failed files' reasons are one line each.
        for file in d.files(under: "failed") where file.hasSuffix(".error.txt") {
            let text = try String(contentsOfFile: d.path("failed/\(file)"), encoding: .utf8)
            #expect(text.split(separator: "\n").count == 1, "\(text)")
        }
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }

    @Test("names that are not UTF-8 are processed as bytes; a.png and a.PNG get distinct outputs")
    func byteNames() throws {
        let d = try DaemonHarness(config: Self.config(after: "keep", extra: "pattern = \"*.[pP][nN][gG]\""))
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        let png = try DaemonFixtures.png(seed: 7, side: 8)
        #expect(writeRaw(Array(d.path("in/").utf8) + [0x62, 0x61, 0x64, 0xFF, 0x2E, 0x70, 0x6E, 0x67], png))
        try d.drop("in/a.png", DaemonFixtures.png(seed: 8, side: 8))
        try d.drop("in/a.PNG", DaemonFixtures.png(seed: 9, side: 12))
        #expect(DaemonHarness.poll { d.logLines().count >= 3 }, "\(d.stderr)")
        let files = Set(d.logLines().compactMap { $0["file"] as? String })
        #expect(files == [d.path("in/bad\\xff.png"), d.path("in/a.png"), d.path("in/a.PNG")])
        #expect(d.logLines().allSatisfy { $0["outcome"] as? String == "ok" }, "\(d.logLines())")
        #expect(Set(try d.root.listing("out")) == ["a.gray.npy", "a.PNG.gray.npy", "bad\u{FFFD}.gray.npy"])
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }

    @Test("follow_symlinks: two links to the root make no exponential walk; a link to a FIFO fails without hanging")
    func followedSymlinks() throws {
        let d = try DaemonHarness(config: Self.config(after: "keep", extra: "follow_symlinks = true"))
        #expect(symlink(d.path("in"), d.path("in/a")) == 0)
        #expect(symlink(d.path("in"), d.path("in/b")) == 0)
        #expect(mkfifo(d.path("fifo"), 0o644) == 0)
        #expect(symlink(d.path("fifo"), d.path("in/pipe.png")) == 0)
        try d.write("in/p.png", DaemonFixtures.png(seed: 10, side: 8))
        try d.write("outside/t.png", DaemonFixtures.png(seed: 11, side: 8))
        #expect(symlink(d.path("outside/t.png"), d.path("in/t.png")) == 0)
        let result = try ConvdBinary.run(["run", "--oneshot", "--config", d.configPath])
        #expect(result.status == 1, "one file failed: \(result.stderr)")
        let lines = d.logLines()
        #expect(lines.count == 3, "\(lines)")
        #expect(Set(lines.compactMap { $0["file"] as? String }) == [d.path("in/p.png"), d.path("in/pipe.png"), d.path("in/t.png")])
        let pipe = lines.first { $0["file"] as? String == d.path("in/pipe.png") }
        let reason = pipe?["reason"] as? String ?? ""
        #expect(reason.contains("not a regular file (a FIFO)"), "\(reason)")
        #expect(lines.first { $0["file"] as? String == d.path("in/t.png") }?["outcome"] as? String == "ok")
    }

    @Test("a file that crashes the daemon is failed after two crashes, not retried forever; the rest is served once")
    func poisonPill() throws {
        let d = try DaemonHarness(config: Self.config(after: "keep"))
        for i in 0..<5 { try d.write("in/ok\(i).png", DaemonFixtures.png(seed: UInt64(20 + i), side: 8)) }
        try d.write("in/poison.png", DaemonFixtures.png(seed: 30, side: 8))
        let crashes = try Self.crashesUntilDone(d)
        #expect(crashes == 2, "the poison pill crashed the daemon \(crashes) times")
        let lines = d.logLines()
        #expect(DaemonFixtures.linesPerFile(lines).values.allSatisfy { $0 == 1 })
        #expect(lines.count == 6, "\(lines)")
        let poison = lines.first { $0["file"] as? String == d.path("in/poison.png") }
        let reason = poison?["reason"] as? String ?? ""
        #expect(reason.contains("crashed the daemon twice"), "\(reason)")
        #expect(FileManager.default.fileExists(atPath: d.path("failed/poison.png.error.txt")))
    }

    @Test("a poison pill claimed together with 20 innocent files fails alone, with 1 or 2 workers",
          arguments: [1, 2])
    func poisonPillAmongInnocents(workers: Int) throws {
        // No settle time: the rows are claimed in name order, the pill first, and the innocent
        // files claimed with it are still waiting (or, with 2 workers, one is in progress) when
        // it kills the process. Only the job in progress counts the crash, and a file that
        // crashed once runs alone afterwards, so only the pill reaches two.
        let config = Self.config(after: "keep", settleMs: 0)
            .replacingOccurrences(of: "workers = 2", with: "workers = \(workers)")
        let d = try DaemonHarness(config: config)
        try d.write("in/a0-poison.png", DaemonFixtures.png(seed: 30, side: 8))
        for i in 0..<20 { try d.write("in/ok\(i).png", DaemonFixtures.png(seed: UInt64(40 + i), side: 8)) }
        let crashes = try Self.crashesUntilDone(d)
        #expect(crashes == 2, "the poison pill crashed the daemon \(crashes) times")
        let lines = d.logLines()
        #expect(lines.count == 21, "\(lines)")
        #expect(DaemonFixtures.linesPerFile(lines).values.allSatisfy { $0 == 1 })
        let failed = lines.filter { $0["outcome"] as? String != "ok" }.compactMap { $0["file"] as? String }
        #expect(failed == [d.path("in/a0-poison.png")], "innocent files failed with the pill: \(failed)")
    }

    /// Runs `convd run --oneshot` with the crash hook on files named *poison* until a run ends
    /// normally (at most 4 runs); returns how many runs crashed.
    private static func crashesUntilDone(_ d: DaemonHarness) throws -> Int {
        var crashes = 0
        for _ in 0..<4 {
            // No crash backtrace: the process dies at once, as other workers are mid-job.
            let result = try ConvdBinary.runProgram("/usr/bin/env", ["CONVD_TEST_CRASH_ON=poison", "SWIFT_BACKTRACE=enable=no",
                                                                   ConvdBinary.path, "run", "--oneshot",
                                                                   "--config", d.configPath])
            if result.status == 0 || result.status == 1 { break }
            crashes += 1
        }
        return crashes
    }
}
