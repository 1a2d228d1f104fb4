// SIGHUP with a broken model (security audit #13): the reload used to trap inside the model
// reader and kill the daemon. Now the model file's error is one log line naming the file, the
// running config is kept, and images dropped afterwards are classified by the old model.
import ConvdTestSupport
import Foundation
import Testing

@Suite("Daemon: reload with a broken model", .serialized)
struct DaemonModelReloadTests {
    @Test("overflowing data_offsets, then filters = 999999999: each reload is refused, the old model keeps classifying")
    func brokenModel() throws {
        let good = try DaemonFixtures.sample("samples/models/fashion-mnist.safetensors")
        let sneaker = try DaemonFixtures.sample("samples/images/fashion-sneaker.png")
        let d = try DaemonHarness(config: DaemonFixtures.modelConfig(modelPath: "@ROOT@/model.safetensors"))
        let model = d.path("model.safetensors")
        try d.write("model.safetensors", good)
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        try d.drop("in/before.png", sneaker)
        #expect(DaemonHarness.poll { d.logLines().count >= 1 }, "\(d.stderr)")
        #expect(d.logLines().first?["label"] as? String == "Sneaker")

        let broken: [(name: String, bytes: [UInt8], reason: String)] = [
            ("offsets", try SafetensorsSurgery.overflowingOffsets(good),
             "tensor \"layers.0.weight\" data_offsets [\(Int.max - 1152), \(Int.max)] are not an ordered range inside"),
            ("filters", try SafetensorsSurgery.editingLayer(good, type: "conv2d", key: "filters", value: 999_999_999),
             "bad architecture: layer 1: conv2d 999999999×3×3, pad 1, no bias: 999999999 filters exceed the limit of 65536"),
        ]
        for (i, variant) in broken.enumerated() {
            try d.write("model.safetensors", variant.bytes)
            d.send(SIGHUP)
            #expect(DaemonHarness.poll { d.stderr.components(separatedBy: "reload failed").count == i + 2 },
                    "\(variant.name): \(d.stderr)")
            let lines = d.stderr.split(separator: "\n").filter { $0.contains("reload failed") }
            #expect(lines.count == i + 1)
            let line = String(lines.last ?? "")
            #expect(line.contains("keeping the running config"), "\(line)")
            #expect(line.contains("models.fashion.path: \(model): \(variant.reason)"), "\(variant.name): \(line)")
            #expect(d.isRunning, "\(variant.name): \(d.stderr)")
            try d.drop("in/after-\(variant.name).png", sneaker)
            #expect(DaemonHarness.poll { d.logLines().count >= i + 2 }, "\(variant.name): \(d.stderr)")
            let classified = d.logLines().first { $0["file"] as? String == d.path("in/after-\(variant.name).png") }
            #expect(classified?["outcome"] as? String == "ok", "\(variant.name)")
            #expect(classified?["label"] as? String == "Sneaker", "\(variant.name)")
        }
        // The good model back: the next reload is accepted.
        try d.write("model.safetensors", good)
        d.send(SIGHUP)
        #expect(DaemonHarness.poll { d.stderr.contains("reloaded the config") }, "\(d.stderr)")
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0, "\(d.stderr)")
    }
}
