// The convd executable: the root command and its subcommands. Each subcommand builds values
// from the libraries and runs them; no image or convolution logic lives here.
import ArgumentParser
import ConvdCore

@main
struct Convd: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "convd",
        abstract: "Watch folders and run convolution filter chains or CNN classifiers on every PNG.",
        discussion: """
            convd decodes PNGs (every colour type and bit depth) into float32 C×H×W tensors, \
            runs a filter chain over them and writes the feature maps as PNG, montage and NumPy files; \
            it trains, evaluates and applies CNN classifiers stored as safetensors models. \
            As a daemon ('convd run'), it watches folders and does this to every PNG dropped into them.

            A chain is a list of steps separated by "|", e.g.
              gray | gaussian(5, 1.0) | conv(sobel-x, sobel-y; padding=same) | magnitude

            Run 'convd kernels' for the named kernels and 'convd filter --help' for every step.
            """,
        version: "convd \(version)",
        subcommands: [RunCommand.self, CheckConfigCommand.self, StatusCommand.self, RetryCommand.self,
                      LogCommand.self, LedgerCommand.self,
                      FilterCommand.self, KernelsCommand.self, TrainCommand.self, EvalCommand.self,
                      ClassifyCommand.self, InspectCommand.self]
    )

    /// OpenBLAS's worker threads are stopped before any command runs: convd splits its GEMMs over
    /// its own threads, and idle BLAS threads spinning beside them would take a core.
    static func main() async {
        useSingleThreadedGEMM()
        await main(nil)
    }
}
