// Several real `convd run` processes over one input tree and one PostgreSQL ledger (a server
// the tests start): every file version processed exactly once — one log line in all the
// nodes' logs together, one set of outputs, no temporary files — through a burst, nodes
// killed with SIGKILL and restarted, a node stopped past its lease (its late completion
// refused by the fence), the database restarted, and the listing node killed.
import ConvdTestSupport
import Foundation
import Testing

/// A fleet: one shared tree (`in/`, `out/`, `failed/`, `staging/`) and nodes, each a daemon
/// harness of its own (state, log, stderr) whose config points at the shared tree.
private final class Fleet: @unchecked Sendable {
    let tree = TemporaryDirectory()
    let uri: String
    let server: PostgresServer
    var nodes: [DaemonHarness] = []
    let lease: Double

    init(nodes count: Int, lease: Double = 3, server: PostgresServer = .shared) throws {
        self.server = server
        self.lease = lease
        uri = try server.createDatabase()
        for folder in ["in", "out", "failed", "staging"] {
            try FileManager.default.createDirectory(atPath: tree.file(folder), withIntermediateDirectories: true)
        }
        for i in 0..<count { nodes.append(try DaemonHarness(config: config(node: "node\(i)"))) }
    }

    func config(node: String) -> String {
        """
        [daemon]
        ledger = "\(uri)"
        node_name = "\(node)"
        lease_seconds = \(lease)
        workers = 2
        state_dir = "@ROOT@/state"
        classification_log = "@ROOT@/log/classifications.jsonl"
        log_level = "info"
        rescan_interval = 0
        stop_timeout = 5

        [chains]
        gray = "gray"

        [[watch]]
        name = "maps"
        input = "\(tree.file("in"))"
        output = "\(tree.file("out"))"
        chain = "gray"
        formats = ["npy"]
        failed_dir = "\(tree.file("failed"))"
        settle_ms = 0
        mode = "poll"
        poll_interval = 0.3
        """
    }

    func start(_ i: Int, environment: [String: String] = [:]) throws {
        try nodes[i].start(environment: environment)
    }

    /// Writes `count` PNGs to staging/, then renames them all into in/ at once.
    func drop(_ count: Int, prefix: String = "f") throws {
        let image = try DaemonFixtures.png(seed: 7)
        for i in 0..<count { try tree.write("staging/\(prefix)\(i).png", image) }
        for i in 0..<count {
            guard rename(tree.file("staging/\(prefix)\(i).png"), tree.file("in/\(prefix)\(i).png")) == 0 else {
                throw TestFailure("rename failed")
            }
        }
    }

    /// Every node's log lines together.
    var lines: [[String: Any]] { nodes.flatMap { $0.logLines() } }

    /// Waits until the logs hold `count` lines.
    @discardableResult
    func waitForLines(_ count: Int, timeout: Double = 240) -> Bool {
        DaemonHarness.poll(timeout: timeout) { lines.count >= count }
    }

    /// What must hold once `count` files went through: one line per file in all the logs, one
    /// output per file, no temporary file left, one done or failed row per version.
    func checkExactlyOnce(_ count: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        usleep(1_500_000)  // a late duplicate would show up by now
        let lines = self.lines
        let perFile = DaemonFixtures.linesPerFile(lines)
        let states = (try? server.psql(uri, "SELECT state, count(*) FROM convd_file GROUP BY state")) ?? "?"
        #expect(lines.count == count, "\(lines.count) lines for \(count) files; ledger: \(states)",
                sourceLocation: sourceLocation)
        #expect(perFile.count == count && Set(perFile.values) == [1], sourceLocation: sourceLocation)
        let outputs = (try? FileManager.default.contentsOfDirectory(atPath: tree.file("out"))) ?? []
        let failed = lines.filter { $0["outcome"] as? String != "ok" }
        #expect(outputs.filter { $0.hasSuffix(".npy") }.count == count - failed.count, sourceLocation: sourceLocation)
        // A killed node's temporaries go within two leases (or 10 s) plus a sweep period.
        let swept = DaemonHarness.poll(timeout: 4 * lease + 25) {
            ((try? FileManager.default.contentsOfDirectory(atPath: tree.file("out"))) ?? []).allSatisfy {
                !$0.contains("convd-tmp")
            }
        }
        #expect(swept, "temporary files left in out/", sourceLocation: sourceLocation)
        // A failure may only be a file that was in flight on two nodes that died.
        for line in failed {
            #expect((line["reason"] as? String ?? "").contains("crashed the daemon twice"), "\(line)",
                    sourceLocation: sourceLocation)
        }
        let rows = try server.psql(uri, "SELECT count(*), count(DISTINCT seq) FROM convd_file "
                                   + "WHERE state IN ('done', 'failed')")
        #expect(rows.trimmingCharacters(in: .whitespacesAndNewlines) == "\(count)|\(count)",
                sourceLocation: sourceLocation)
    }

    /// The node (index) that lists the watch now, from the ledger.
    func lister() throws -> Int? {
        let holder = try server.psql(uri, "SELECT split_part(holder, '/', 1) FROM convd_lister WHERE expires > now()")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return holder.hasPrefix("node") ? Int(holder.dropFirst(4)) : nil
    }

    func stopAll() {
        for node in nodes where node.isRunning {
            node.send(SIGCONT)
            node.send(SIGTERM)
            _ = node.waitForExit(timeout: 20)
        }
    }
}

@Suite("Fleet: several nodes, one PostgreSQL ledger", .serialized)
struct FleetTests {
    @Test("three nodes, 5,000 files dropped at once: each processed exactly once; convd log and status show the fleet")
    func burst() throws {
        let fleet = try Fleet(nodes: 3)
        defer { fleet.stopAll() }
        for i in 0..<3 { try fleet.start(i) }
        for node in fleet.nodes { #expect(node.waitUntilReady(), "\(node.stderr)") }
        try fleet.drop(5000)
        #expect(fleet.waitForLines(5000), "\(fleet.lines.count) lines")
        try fleet.checkExactlyOnce(5000)
        let perNode = fleet.nodes.map { $0.logLines().count }
        print("fleet burst: lines per node \(perNode)")
        // The fleet's log from the ledger: every line once, in sequence order.
        let log = try ConvdBinary.run(["log", "--config", fleet.nodes[0].configPath])
        let seqs = log.stdout.split(separator: "\n").compactMap {
            ((try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any])?["seq"] as? Int
        }
        #expect(seqs == Array(1...5000))
        let status = try ConvdBinary.run(["status", "--config", fleet.nodes[1].configPath])
        #expect(status.stdout.contains("node0") && status.stdout.contains("node2"), "\(status.stdout)")
        #expect(status.stdout.contains("maps") && status.stdout.contains("5000"), "\(status.stdout)")
    }

    @Test("nodes killed with SIGKILL and restarted, one stopped past its lease: still exactly once, the late finish refused")
    func chaos() throws {
        let fleet = try Fleet(nodes: 3, lease: 2)
        defer { fleet.stopAll() }
        // node0 alone first, so that it claims the slow file and is stopped while holding it.
        try fleet.start(0, environment: ["CONVD_TEST_SLOW_ON": "slow"])
        #expect(fleet.nodes[0].waitUntilReady(), "\(fleet.nodes[0].stderr)")
        try fleet.drop(1, prefix: "slow")
        usleep(1_000_000)
        fleet.nodes[0].send(SIGSTOP)
        try fleet.start(1)
        try fleet.start(2)
        try fleet.drop(1500)
        // Kill and restart nodes 1 and 2 in turn while node0 stays stopped past its lease.
        var generator = SystemRandomNumberGenerator()
        for round in 0..<4 {
            usleep(UInt32.random(in: 400_000...1_200_000, using: &generator))
            let victim = 1 + round % 2
            fleet.nodes[victim].send(SIGKILL)
            _ = fleet.nodes[victim].waitForExit(timeout: 10)
            try fleet.start(victim)
        }
        fleet.nodes[0].send(SIGCONT)
        #expect(fleet.waitForLines(1501), "\(fleet.lines.count) lines")
        try fleet.checkExactlyOnce(1501)
        #expect(DaemonHarness.poll(timeout: 10) { fleet.nodes[0].stderr.contains("lease lost") },
                "\(fleet.nodes[0].stderr.suffix(3000))")
        #expect(fleet.nodes.flatMap { $0.logLines() }.filter { ($0["file"] as? String ?? "").hasSuffix("slow0.png") }
            .count == 1)
    }

    @Test("the database restarted in the middle of a burst: reported in the status, nothing lost, nothing twice")
    func databaseRestart() throws {
        let server = try PostgresServer()
        let fleet = try Fleet(nodes: 2, server: server)
        defer { fleet.stopAll() }
        for i in 0..<2 { try fleet.start(i) }
        for node in fleet.nodes { #expect(node.waitUntilReady(), "\(node.stderr)") }
        try fleet.drop(2000)
        #expect(DaemonHarness.poll(timeout: 120) { fleet.lines.count >= 300 })
        try server.stop()
        // The nodes say so in STATUS (and the status file) while the database is away.
        let reported = DaemonHarness.poll(timeout: 15) {
            let data = FileManager.default.contents(atPath: fleet.nodes[0].path("state/status.json")) ?? Data()
            return String(decoding: data, as: UTF8.self).contains("no heartbeat reached the database")
        }
        #expect(reported, "\(fleet.nodes[0].stderr.suffix(1500))")
        try server.start()
        let finished = fleet.waitForLines(2000, timeout: 90)
        let listers = ((try? server.psql(fleet.uri, "SELECT * FROM convd_lister")) ?? "?")
            + ((try? server.psql(fleet.uri, "SELECT lease_owner, count(*), min(lease_expires), max(lease_expires), now() "
                                 + "FROM convd_file WHERE state = 'running' GROUP BY 1")) ?? "?")
        let tails = fleet.nodes.map { $0.stderr.split(separator: "\n").filter { !$0.contains("lease ") }.suffix(25) }
        #expect(finished, "\(fleet.lines.count) lines; listers: \(listers); \(tails)")
        try fleet.checkExactlyOnce(2000)
        let running = fleet.nodes.filter { $0.isRunning }.count
        #expect(running == 2)
    }

    @Test("the listing node killed: another node lists the watch, and a new file is processed within the lease")
    func listerFailover() throws {
        let fleet = try Fleet(nodes: 2, lease: 2)
        defer { fleet.stopAll() }
        for i in 0..<2 { try fleet.start(i) }
        for node in fleet.nodes { #expect(node.waitUntilReady(), "\(node.stderr)") }
        try fleet.drop(5)
        #expect(fleet.waitForLines(5, timeout: 30))
        let lister = try #require(try fleet.lister())
        fleet.nodes[lister].send(SIGKILL)
        _ = fleet.nodes[lister].waitForExit(timeout: 10)
        let killed = Date()
        try fleet.drop(1, prefix: "late")
        #expect(fleet.waitForLines(6, timeout: 30), "\(fleet.nodes[1 - lister].stderr.suffix(2000))")
        let seconds = Date().timeIntervalSince(killed)
        print("lister failover: new file logged \(seconds) s after the lister was killed (lease 2 s)")
        #expect(seconds < 2 * fleet.lease + 2)
        let newLister = try fleet.lister()
        #expect(newLister == 1 - lister)
    }
}
