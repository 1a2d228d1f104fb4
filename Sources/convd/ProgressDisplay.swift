// ProgressDisplay: training progress on stderr — a redrawn bar on a terminal, one plain line
// per epoch otherwise (logs, CI).
import ConvdNet
import Foundation

final class ProgressDisplay {
    let isTerminal = isatty(2) != 0
    private var lastDraw = 0.0

    func batch(_ p: BatchProgress) {
        guard isTerminal else { return }
        let now = monotonicSeconds()
        guard now - lastDraw > 0.1 || p.batch == p.batches else { return }
        lastDraw = now
        let width = 24, filled = width * p.batch / max(p.batches, 1)
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let eta = Int(p.secondsLeft)
        let line = String(format: "\repoch %d/%d [%@] %d/%d loss %.4f acc %.2f%% %.0f img/s ETA %d:%02d ",
                          p.epoch, p.epochs, bar, p.batch, p.batches, p.loss, p.accuracy * 100, p.imagesPerSecond,
                          eta / 60, eta % 60)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func epoch(_ r: EpochReport) {
        var line = String(format: "epoch %d: loss %.4f acc %.2f%%", r.epoch, r.trainLoss, r.trainAccuracy * 100)
        if let vl = r.validationLoss, let va = r.validationAccuracy {
            line += String(format: " val_loss %.4f val_acc %.2f%%", vl, va * 100)
        }
        line += String(format: " lr %.2g %.1f s", r.learningRate, r.seconds)
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + line + "\n").utf8))
    }
}
