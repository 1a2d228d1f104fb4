// The shipped unit: `systemd-analyze verify` prints nothing, and `systemd-analyze security
// --offline=yes` rates it 1.0 or lower (ExecStart pointed at the built binary: verify
// checks that it exists).
import ConvdTestSupport
import Foundation
import Testing

@Suite("systemd unit")
struct SystemdUnitTests {
    private func analyze(_ arguments: [String]) throws -> ProcessResult {
        try ConvdBinary.runProgram("/usr/bin/systemd-analyze", arguments)
    }

    @Test("verify is silent; security exposure is at most 1.0")
    func unit() throws {
        let dir = TemporaryDirectory()
        let shipped = try String(contentsOfFile: DaemonFixtures.repository + "/systemd/convd.service", encoding: .utf8)
        #expect(shipped.contains("ExecStart=/usr/local/bin/convd run --config /etc/convd/convd.toml"))
        #expect(shipped.contains("Type=notify") && shipped.contains("ExecReload=kill -HUP $MAINPID"))
        let unit = dir.file("convd.service")
        try shipped.replacingOccurrences(of: "/usr/local/bin/convd", with: ConvdBinary.path)
            .write(toFile: unit, atomically: true, encoding: .utf8)
        let verify = try analyze(["verify", "--man=no", unit])
        #expect(verify.status == 0)
        #expect(verify.stdout.isEmpty && verify.stderr.isEmpty, "\(verify.stdout)\(verify.stderr)")
        let security = try analyze(["security", "--offline=yes", "--threshold=10", unit])
        #expect(security.status == 0, "\(security.stdout)")
        let overall = security.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") } ?? ""
        #expect(overall.contains("convd.service: 0.") || overall.contains("convd.service: 1.0"), "\(overall)")
    }
}
