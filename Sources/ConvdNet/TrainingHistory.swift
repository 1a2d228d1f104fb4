// TrainingHistory: the per-epoch record of a run as CSV (`model.history.csv`) and as an SVG
// learning curve (`model.curve.svg`): loss on the left axis, accuracy on the right, training
// solid and validation dashed.

/// Renders epoch reports.
public enum TrainingHistory {
    /// `epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,seconds` and one row per epoch.
    public static func csv(_ reports: [EpochReport]) -> String {
        var lines = ["epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,seconds"]
        for r in reports {
            lines.append([String(r.epoch), String(r.learningRate), String(r.trainLoss), String(r.trainAccuracy),
                          r.validationLoss.map { String($0) } ?? "", r.validationAccuracy.map { String($0) } ?? "",
                          String(Double(Int(r.seconds * 1000)) / 1000)].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// An 640×360 SVG chart of loss and accuracy per epoch.
    public static func svg(_ reports: [EpochReport], title: String) -> String {
        let width = 640.0, height = 360.0, left = 60.0, right = 60.0, top = 40.0, bottom = 40.0
        let plotW = width - left - right, plotH = height - top - bottom
        let epochs = max(reports.count, 1)
        let losses = reports.flatMap { [Double($0.trainLoss)] + ($0.validationLoss.map { [Double($0)] } ?? []) }
        let maxLoss = max(losses.max() ?? 1, 1e-6)
        func x(_ epoch: Int) -> Double { left + plotW * (epochs == 1 ? 0.5 : Double(epoch - 1) / Double(epochs - 1)) }
        func yLoss(_ v: Double) -> Double { top + plotH * (1 - v / maxLoss) }
        func yAccuracy(_ v: Double) -> Double { top + plotH * (1 - v) }
        func path(_ points: [(Int, Double)], _ y: (Double) -> Double) -> String {
            points.enumerated().map { i, p in (i == 0 ? "M" : "L") + String(format2(x(p.0))) + "," + format2(y(p.1)) }
                .joined(separator: " ")
        }
        let trainLoss = reports.map { ($0.epoch, Double($0.trainLoss)) }
        let valLoss = reports.compactMap { r in r.validationLoss.map { (r.epoch, Double($0)) } }
        let trainAcc = reports.map { ($0.epoch, $0.trainAccuracy) }
        let valAcc = reports.compactMap { r in r.validationAccuracy.map { (r.epoch, $0) } }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Int(width / 2))" y="22" text-anchor="middle" font-size="14">\(escape(title))</text>
            <rect x="\(left)" y="\(top)" width="\(plotW)" height="\(plotH)" fill="none" stroke="#999"/>
            <text x="\(left - 8)" y="\(top + 4)" text-anchor="end">\(format2(maxLoss))</text>
            <text x="\(left - 8)" y="\(top + plotH + 4)" text-anchor="end">0</text>
            <text x="\(left + plotW + 8)" y="\(top + 4)">100%</text>
            <text x="\(left + plotW + 8)" y="\(top + plotH + 4)">0%</text>
            <text x="\(left)" y="\(height - 12)">epoch 1</text>
            <text x="\(left + plotW)" y="\(height - 12)" text-anchor="end">epoch \(epochs)</text>

            """
        svg += "<path d=\"\(path(trainLoss, yLoss))\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>\n"
        svg += "<path d=\"\(path(valLoss, yLoss))\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n"
        svg += "<path d=\"\(path(trainAcc, yAccuracy))\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n"
        svg += "<path d=\"\(path(valAcc, yAccuracy))\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n"
        svg += "<text x=\"\(left + 10)\" y=\"\(top + 18)\" fill=\"#d62728\">loss (left axis)</text>\n"
        svg += "<text x=\"\(left + 10)\" y=\"\(top + 34)\" fill=\"#1f77b4\">accuracy (right axis)</text>\n"
        svg += "<text x=\"\(left + 10)\" y=\"\(top + 50)\" fill=\"#555\">solid: training, dashed: validation</text>\n"
        return svg + "</svg>\n"
    }

    private static func format2(_ v: Double) -> String {
        String(Double((v * 100).rounded()) / 100)
    }

    private static func escape(_ s: String) -> String {
        s.replacingAll("&", "&amp;").replacingAll("<", "&lt;").replacingAll(">", "&gt;")
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, _ replacement: String) -> String {
        var out = ""
        for ch in self { if ch == target { out += replacement } else { out.append(ch) } }
        return out
    }
}
