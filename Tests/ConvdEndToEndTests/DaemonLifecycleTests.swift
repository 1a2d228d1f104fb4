// The daemon's life: sd_notify on a test socket, SIGTERM with work in flight, SIGHUP with a
// good and a broken config, log rotation, kill -9 and restart, --oneshot, a watch root that
// is deleted and re-created.
import ConvdTestSupport
import Foundation
import Testing

@Suite("Daemon: lifecycle", .serialized)
struct DaemonLifecycleTests {
    @Test("READY, STATUS and WATCHDOG on \\$NOTIFY_SOCKET; SIGTERM during work: STOPPING, exit 0, outputs complete")
    func notifyAndStop() throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig(settleMs: 0))
        let socket = try NotifySocket(path: d.path("notify.sock"))
        defer { socket.close() }
        try d.start(environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000"])
        #expect(DaemonHarness.poll { socket.messages.contains { $0.hasPrefix("READY=1") } }, "\(d.stderr)")
        #expect(DaemonHarness.poll { socket.messages.filter { $0 == "WATCHDOG=1" }.count >= 2 })
        let ready = socket.messages.first { $0.hasPrefix("READY=1") } ?? ""
        #expect(ready.contains("STATUS=running: processed 0, failed 0, queued 0"), "\(ready)")
        #expect(ready.contains("MAINPID=\(d.pid)"))
        for i in 0..<200 { try d.drop("in/f\(i).png", DaemonFixtures.png(seed: UInt64(i), side: 64)) }
        #expect(DaemonHarness.poll { d.logLines().count >= 5 })
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0, "\(d.stderr)")
        #expect(DaemonHarness.poll(timeout: 2) { socket.messages.contains { $0.hasPrefix("STOPPING=1") } })
        let stopping = socket.messages.first { $0.hasPrefix("STOPPING=1") } ?? ""
        #expect(stopping.contains("EXTEND_TIMEOUT_USEC=15000000"), "\(stopping)")
        #expect(stopping.contains("STATUS=stopping: processed ") && !stopping.contains("processed 0,"), "\(stopping)")
        // Every output present is complete, and no temporary file is left.
        let outputs = d.files(under: "out")
        #expect(outputs.allSatisfy { !$0.contains("convd-tmp") }, "\(outputs)")
        #expect(outputs.count == d.logLines().count)
        // The rest runs at the next start.
        try d.start()
        #expect(DaemonHarness.poll { d.logLines().count >= 200 }, "\(d.stderr)")
        usleep(300_000)
        #expect(Set(DaemonFixtures.linesPerFile(d.logLines()).values) == [1])
        d.send(SIGINT)
        #expect(d.waitForExit() == 0)
    }

    @Test("kill -9 in the middle of a burst, restart: every file once overall, no partial or temporary files")
    func killNine() throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig(settleMs: 0))
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        let count = 600
        var killed = false
        for i in 0..<count {
            try d.drop("in/d\(i % 7)/f\(i).png", DaemonFixtures.png(seed: UInt64(i), side: 96))
            // Kill it mid-burst: some files done, some in flight, the rest not yet dropped.
            if !killed && d.logLines().count >= 50 {
                d.send(SIGKILL)
                _ = d.waitForExit()
                killed = true
            }
        }
        #expect(killed, "the daemon processed nothing during the burst")
        try d.start()
        #expect(DaemonHarness.poll(timeout: 60) { d.logLines().count >= count }, "\(d.stderr)")
        usleep(500_000)
        let lines = d.logLines()
        #expect(lines.count == count)
        #expect(Set(DaemonFixtures.linesPerFile(lines).values) == [1])
        #expect(lines.map { $0["seq"] as? Int ?? 0 } == Array(1...count))
        let outputs = d.files(under: "out")
        #expect(outputs.count == count, "\(outputs.filter { $0.contains("convd-tmp") })")
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }

    @Test("SIGHUP: a valid config adds a watch; a broken one is refused and the old one keeps running")
    func reload() throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig())
        let socket = try NotifySocket(path: d.path("notify.sock"))
        defer { socket.close() }
        try d.start(environment: ["NOTIFY_SOCKET": socket.path])
        #expect(d.waitUntilReady(), "\(d.stderr)")
        try FileManager.default.createDirectory(atPath: d.path("in2"), withIntermediateDirectories: true)
        try d.setConfig(DaemonFixtures.chainConfig() + """

            [[watch]]
            name = "second"
            input = "@ROOT@/in2"
            output = "@ROOT@/out2"
            chain = "gray"
            formats = ["npy"]
            """)
        d.send(SIGHUP)
        #expect(DaemonHarness.poll { d.stderr.contains("reloaded the config") }, "\(d.stderr)")
        #expect(socket.messages.contains { $0.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") })
        #expect(DaemonHarness.poll { d.stderr.contains("watching") && d.stderr.contains("watch.name=second") })
        try d.drop("in2/x.png", DaemonFixtures.png(seed: 1))
        #expect(DaemonHarness.poll { FileManager.default.fileExists(atPath: d.path("out2/x.gray.npy")) }, "\(d.stderr)")
        try d.setConfig("[daemon]\nworkers = \"many\"\n")
        d.send(SIGHUP)
        #expect(DaemonHarness.poll { d.stderr.contains("reload failed; keeping the running config") }, "\(d.stderr)")
        #expect(d.stderr.contains("daemon.workers: expected an integer, found string"))
        try d.drop("in/y.png", DaemonFixtures.png(seed: 2))
        #expect(DaemonHarness.poll { FileManager.default.fileExists(atPath: d.path("out/y.gray.npy")) })
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }

    @Test("logrotate: the log renamed during a burst, SIGHUP, no line lost")
    func rotation() throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig(settleMs: 0))
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        var rotated = false
        for i in 0..<300 {
            try d.drop("in/r\(i).png", DaemonFixtures.png(seed: UInt64(i), side: 48))
            // Rotate as logrotate does (rename, then SIGHUP) while files keep coming.
            if !rotated && d.logLines().count >= 30 {
                #expect(rename(d.path("log/classifications.jsonl"), d.path("log/classifications.jsonl.1")) == 0)
                d.send(SIGHUP)
                rotated = true
            }
        }
        #expect(rotated)
        #expect(DaemonHarness.poll { d.logLines().count + d.logLines("log/classifications.jsonl.1").count >= 300 },
                "\(d.stderr)")
        let all = d.logLines("log/classifications.jsonl.1") + d.logLines()
        #expect(all.map { $0["seq"] as? Int ?? 0 } == Array(1...300))
        #expect(!d.logLines().isEmpty)
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }

    @Test("log_format = json: every stderr line is a JSON object with dotted metadata keys")
    func jsonLogs() throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig(daemonExtra: "log_format = \"json\""))
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        try d.drop("in/a.png", DaemonFixtures.png(seed: 1))
        #expect(DaemonHarness.poll { d.logLines().count >= 1 })
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
        let lines = d.stderr.split(separator: "\n").map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        #expect(!lines.isEmpty && lines.allSatisfy { $0 != nil }, "\(d.stderr)")
        let processed = lines.compactMap { $0 }.first { $0["message"] as? String == "processed" }
        #expect(processed?["watch.name"] as? String == "maps")
        #expect(processed?["file.path"] as? String == d.path("in/a.png"))
        #expect(processed?["level"] as? String == "debug")
    }

    @Test("--oneshot processes the backlog and exits 0, or 1 when a file failed")
    func oneshot() throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig())
        for i in 0..<30 { try d.write("in/o\(i).png", DaemonFixtures.png(seed: UInt64(i))) }
        // Written long enough ago to be settled.
        try d.start(extra: ["--oneshot"])
        #expect(d.waitForExit(timeout: 60) == 0, "\(d.stderr)")
        #expect(d.logLines().count == 30)
        try d.write("in/bad.png", Array("nope".utf8))
        try d.start(extra: ["--oneshot"])
        #expect(d.waitForExit(timeout: 60) == 1, "\(d.stderr)")
        #expect(d.logLines().count == 31)
        #expect(d.logLines().last?["outcome"] as? String == "failed")
    }

    @Test("a deleted watch root degrades the watch; re-created, it is watched and listed again; new subfolders work")
    func recreatedRoot() throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig(settleMs: 0))
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        try FileManager.default.removeItem(atPath: d.path("in"))
        #expect(DaemonHarness.poll { d.stderr.contains("watch degraded") }, "\(d.stderr)")
        // Re-create it with files already inside (no events for them: the listing finds them).
        try d.write("staging/early.png", DaemonFixtures.png(seed: 1))
        #expect(rename(d.path("staging"), d.path("in")) == 0)
        #expect(DaemonHarness.poll { d.logLines().count >= 1 }, "\(d.stderr)")
        #expect(DaemonHarness.poll { d.stderr.contains("input folder is back") })
        try d.drop("in/new/deeper/late.png", DaemonFixtures.png(seed: 2))
        #expect(DaemonHarness.poll { d.logLines().count >= 2 }, "\(d.stderr)")
        #expect(FileManager.default.fileExists(atPath: d.path("out/new/deeper/late.gray.npy")))
        #expect(d.isRunning)
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }
}
