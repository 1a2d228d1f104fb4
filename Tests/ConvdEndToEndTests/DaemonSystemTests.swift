// Conditions that need root: a full disk (a small tmpfs as the output folder) and a forced
// inotify queue overflow (fs.inotify.max_queued_events lowered). Skipped, with that reason,
// when the tests do not run as root.
import ConvdTestSupport
import Foundation
import Testing

private func shell(_ command: String) -> Int32 {
    (try? ConvdBinary.runProgram("/bin/sh", ["-c", command]))?.status ?? -1
}

private let isRoot = getuid() == 0

/// A chain watch whose `folder` is a tmpfs of `size`, started and ready; nil (with the issue
/// recorded) when the tmpfs cannot be mounted. The caller unmounts it.
private func startedWithTmpfs(at folder: String, size: String) throws -> DaemonHarness? {
    let d = try DaemonHarness(config: DaemonFixtures.chainConfig(settleMs: 0))
    guard shell("mount -t tmpfs -o size=\(size) tmpfs '\(d.path(folder))'") == 0 else {
        Issue.record("cannot mount a tmpfs")
        return nil
    }
    try d.start()
    #expect(d.waitUntilReady(), "\(d.stderr)")
    return d
}

@Suite("Daemon: disk full and inotify overflow (root only)", .serialized,
       .enabled(if: isRoot, "needs root to mount a tmpfs and to lower fs.inotify.max_queued_events"))
struct DaemonSystemTests {
    @Test("a sparse 20 GB file and a failed_dir on another file system: no copy into memory, the reason in the output tree")
    func sparseAcrossFileSystems() throws {
        guard let d = try startedWithTmpfs(at: "failed", size: "1m") else { return }
        defer { _ = shell("umount '\(d.path("failed"))'") }
        #expect(shell("truncate -s 20G '\(d.path("in/.h.png"))' && mv '\(d.path("in/.h.png"))' '\(d.path("in/h.png"))'") == 0)
        try d.drop("in/small.png", Array("not a png".utf8))
        #expect(DaemonHarness.poll { d.logLines().count >= 2 }, "\(d.stderr)")
        let huge = d.logLines().first { $0["file"] as? String == d.path("in/h.png") }
        #expect(huge?["outcome"] as? String == "failed")
        // The small one is copied across; the huge one stays, with its reason in the output tree.
        #expect(DaemonHarness.poll { FileManager.default.fileExists(atPath: d.path("out/h.png.error.txt")) }, "\(d.stderr)")
        let text = (try? String(contentsOfFile: d.path("out/h.png.error.txt"), encoding: .utf8)) ?? ""
        #expect(text.contains("over the limit") && text.contains("copy limit"), "\(text)")
        #expect(FileManager.default.fileExists(atPath: d.path("in/h.png")))
        #expect(DaemonHarness.poll { FileManager.default.fileExists(atPath: d.path("failed/small.png.error.txt")) })
        #expect(d.isRunning)
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
        // At the next start the finished version is not moved again, and nothing crashes.
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        usleep(500_000)
        #expect(d.isRunning && d.logLines().count == 2)
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }

    @Test("ENOSPC on a small output tmpfs: files wait, then all are processed once space is freed, none failed")
    func diskFull() throws {
        guard let d = try startedWithTmpfs(at: "out", size: "128k") else { return }
        defer { _ = shell("umount '\(d.path("out"))'") }
        let count = 40
        // 1×64×64 float32 maps: 16 KiB + header each, so the tmpfs fills after a few.
        for i in 0..<count { try d.drop("in/big\(i).png", DaemonFixtures.png(seed: UInt64(i), side: 64)) }
        #expect(DaemonHarness.poll { d.stderr.contains("cannot write outputs; the file waits") }, "\(d.stderr)")
        #expect(DaemonHarness.poll {
            let status = try? ConvdBinary.run(["status", "--config", d.configPath])
            return status?.stdout.contains("waiting: ") ?? false
        })
        #expect(d.logLines().count < count)
        #expect(shell("mount -o remount,size=8m '\(d.path("out"))'") == 0)
        #expect(DaemonHarness.poll(timeout: 90) { d.logLines().count >= count }, "\(d.stderr)")
        let lines = d.logLines()
        #expect(lines.count == count)
        #expect(lines.allSatisfy { $0["outcome"] as? String == "ok" })
        #expect(try d.root.listing("failed").isEmpty)
        #expect(d.files(under: "out").count == count)
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }

    @Test("2,000 files in one burst with max_queued_events = 64: IN_Q_OVERFLOW, all processed exactly once")
    func overflow() throws {
        let sysctl = "/proc/sys/fs/inotify/max_queued_events"
        let saved = try String(contentsOfFile: sysctl, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig(settleMs: 0))
        #expect(shell("echo 64 > \(sysctl)") == 0)
        do {
            defer { _ = shell("echo \(saved) > \(sysctl)") }
            try d.start()
            #expect(d.waitUntilReady(), "\(d.stderr)")
        }
        let image = try DaemonFixtures.png(seed: 1)
        d.send(SIGSTOP)  // a stalled reader: the kernel queue must overflow
        for i in 0..<2000 { try d.drop("in/o\(i).png", image) }
        d.send(SIGCONT)
        #expect(DaemonHarness.poll(timeout: 120) { d.logLines().count >= 2000 }, "\(d.logLines().count)")
        usleep(500_000)
        #expect(d.stderr.contains("inotify queue overflowed"), "\(d.stderr.suffix(2000))")
        let lines = d.logLines()
        #expect(lines.count == 2000)
        #expect(Set(DaemonFixtures.linesPerFile(lines).values) == [1])
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }
}

@Suite("Daemon: out of inotify watches")
struct DaemonWatchLimitTests {
    @Test("ENOSPC from inotify_add_watch: one error naming the sysctl, the watch is polled, nothing is lost",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"), "needs unshare(1)"))
    func watchLimit() throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig(settleMs: 0))
        for i in 0..<10 { try d.write("in/d\(i)/a.png", DaemonFixtures.png(seed: UInt64(i))) }
        // A user namespace of its own, whose limit of 6 watches affects nothing else.
        try d.start(launcher: ["/usr/bin/unshare", "--user", "--map-root-user", "/bin/sh", "-c",
                               "echo 6 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\""])
        #expect(DaemonHarness.poll { d.logLines().count >= 10 }, "\(d.stderr)")
        let errors = d.stderr.split(separator: "\n").filter { $0.contains("out of inotify watches") }
        #expect(errors.count == 1, "\(d.stderr)")
        #expect(errors.first?.contains("fs.inotify.max_user_watches") ?? false)
        #expect(errors.first?.contains("/etc/sysctl.d/") ?? false)
        // Polled from now on: a later file is found by the next listing.
        try d.drop("in/d9/late.png", DaemonFixtures.png(seed: 42))
        #expect(DaemonHarness.poll { d.logLines().count >= 11 }, "\(d.stderr)")
        let status = try ConvdBinary.run(["status", "--config", d.configPath])
        #expect(status.stdout.contains("poll (out of inotify watches)"), "\(status.stdout)")
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }
}
