// With CONVD_FUZZ_VERBOSE set (scripts/fuzz --repro passes it), each harness prints what the
// library answered, so a replayed input shows its error message or its result.
#if canImport(Glibc)
import Glibc
#endif

/// Whether to print each input's outcome.
public let verbose = getenv("CONVD_FUZZ_VERBOSE") != nil

/// Prints `message()` to standard error when verbose.
public func note(_ message: @autoclosure () -> String) {
    guard verbose else { return }
    let line = Array(("fuzz: " + message() + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
