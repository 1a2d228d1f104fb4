// Configs and images shared by the daemon's end-to-end tests.
import ConvdTestSupport
import Foundation

enum DaemonFixtures {
    /// The repository (for the shipped model and sample images).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static let daemonSection = """
        [daemon]
        workers = 2
        state_dir = "@ROOT@/state"
        classification_log = "@ROOT@/log/classifications.jsonl"
        log_level = "debug"
        rescan_interval = 0
        stop_timeout = 10
        """

    /// One watch `maps` running the `gray` chain into .npy files.
    static func chainConfig(mode: String = "auto", settleMs: Int = 200, watchExtra: String = "",
                            daemonExtra: String = "") -> String {
        """
        \(daemonSection)
        \(daemonExtra)

        [chains]
        gray = "gray"

        [[watch]]
        name = "maps"
        input = "@ROOT@/in"
        output = "@ROOT@/out"
        chain = "gray"
        formats = ["npy"]
        failed_dir = "@ROOT@/failed"
        settle_ms = \(settleMs)
        mode = "\(mode)"
        poll_interval = 0.2
        \(watchExtra)
        """
    }

    /// The shipped Fashion-MNIST model.
    static let shippedModel = "\(repository)/samples/models/fashion-mnist.safetensors"

    /// The bytes of a file of the repository (`samples/...`).
    static func sample(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(repository)/\(relative)")))
    }

    /// One watch `fashion` classifying with the model at `modelPath` (the shipped one by default).
    static func modelConfig(watchExtra: String = "", modelPath: String = shippedModel) -> String {
        """
        \(daemonSection)

        [models.fashion]
        path = "\(modelPath)"

        [[watch]]
        name = "fashion"
        input = "@ROOT@/in"
        output = "@ROOT@/out"
        model = "fashion"
        failed_dir = "@ROOT@/failed"
        settle_ms = 200
        \(watchExtra)
        """
    }

    /// A small random gray PNG; `seed` makes each one different.
    static func png(seed: UInt64, side: Int = 8) throws -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        return try PNGFixture.random(width: side, height: side, colorType: .gray, bitDepth: 8, using: &generator).encoded()
    }

    /// Log lines per file path.
    static func linesPerFile(_ lines: [[String: Any]]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in lines { counts[line["file"] as? String ?? "", default: 0] += 1 }
        return counts
    }
}
