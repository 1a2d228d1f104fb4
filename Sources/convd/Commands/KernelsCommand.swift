// `convd kernels`: every named kernel with its matrix.
import ArgumentParser
import ConvdCore

struct KernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "List the named kernels with their matrices.",
        discussion: "Parametric kernels: gaussian(n, sigma) (sampled, normalised to sum 1) and box(n) (1/n² · ones)."
    )

    func run() {
        for named in NamedKernel.allCases {
            let k = named.kernel
            print("\(named.rawValue)  \(k.height)×\(k.width)  \(named.summary)")
            for row in k.rows() {
                print("  " + row.map { format($0) }.joined())
            }
        }
        print("gaussian(n, sigma)  n×n  sampled Gaussian exp(-(x²+y²)/(2σ²)), normalised to sum 1")
        print("box(n)  n×n  1/n² · ones(n, n)")
    }

    private func format(_ v: Float) -> String {
        let text = v == v.rounded() ? String(Int(v)) : String(format: v)
        return String(repeating: " ", count: max(0, 8 - text.count)) + text
    }
}

extension String {
    /// A weight with up to four decimals, trailing zeros removed.
    fileprivate init(format v: Float) {
        var text = String(Double((Double(v) * 10000).rounded() / 10000))
        if text.hasSuffix(".0") { text.removeLast(2) }
        self = text
    }
}
