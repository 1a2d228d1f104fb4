// MeasuredRun: runs the binary to completion and reports its peak resident set size, for tests
// that bound what a hostile input may cost in memory. The measuring parent is a small Python
// process: Linux carries a parent's RSS high-water mark into a child it spawns with a shared
// address space (posix_spawn, vfork) and execs, so wait4 from the large test process would
// report the test's own peak, not convd's.
import Foundation

/// What a measured run produced.
public struct MeasuredResult: Sendable {
    public let status: Int32
    /// Peak RSS of the child, in KiB.
    public let peakKiB: Int
    public let stderr: String
}

extension ConvdBinary {
    private static let measure = """
        import resource, subprocess, sys
        r = subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=open(sys.argv[1], "wb"))
        print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        """

    /// Runs `convd arguments...`; stdout is discarded, stderr captured.
    public static func runMeasured(_ arguments: [String]) throws -> MeasuredResult {
        let folder = TemporaryDirectory()
        let errPath = folder.file("stderr")
        let result = try runProgram("/usr/bin/env", ["python3", "-c", measure, errPath, path] + arguments)
        let fields = result.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard result.status == 0, fields.count == 2 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "measuring failed: \(result.stderr)"])
        }
        let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return MeasuredResult(status: Int32(fields[0]), peakKiB: fields[1], stderr: text)
    }
}
