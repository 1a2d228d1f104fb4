// `metrics_file`: the Prometheus text file the daemon rewrites, checked by promtool (Debian's
// prometheus package) and read for the counts of what was dropped.
import ConvdTestSupport
import Foundation
import Testing

@Suite("Daemon: metrics file")
struct DaemonMetricsTests {
    @Test("processed, failed, waiting, latency histogram per watch with the node label; promtool accepts it")
    func metrics() throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig(
            settleMs: 0, daemonExtra: "metrics_file = \"@ROOT@/state/convd.prom\"\nnode_name = \"n1\""))
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        for i in 0..<3 { try d.drop("in/ok\(i).png", DaemonFixtures.png(seed: UInt64(i))) }
        try d.drop("in/broken.png", Array("not a png".utf8))
        #expect(DaemonHarness.poll(timeout: 60) { d.logLines().count >= 4 }, "\(d.stderr)")
        let file = d.path("state/convd.prom")
        #expect(DaemonHarness.poll(timeout: 20) {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            return text.contains("convd_files_processed_total{node=\"n1\",watch=\"maps\"} 3")
                && text.contains("convd_files_failed_total{node=\"n1\",watch=\"maps\"} 1")
        }, "\((try? String(contentsOfFile: file, encoding: .utf8)) ?? "no file")")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("convd_latency_seconds_count{node=\"n1\",watch=\"maps\"} 4"))
        #expect(text.contains("convd_latency_seconds_bucket{node=\"n1\",watch=\"maps\",le=\"+Inf\"} 4"))
        #expect(text.contains("convd_files_waiting{node=\"n1\",watch=\"maps\"} 0"))
        #expect(text.contains("# TYPE convd_latency_seconds histogram"))
        let check = try ConvdBinary.runProgram("/bin/sh", ["-c", "promtool check metrics < '\(file)'"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }
}
