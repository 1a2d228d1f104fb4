// fuzz-config: DaemonConfig.parse on arbitrary text (the TOML pre-scan, TOMLKit/toml++, and
// every key's checks). Parsing is lexical only — no stat, no folder is created (checkFolders
// is never called) — and the file named below does not exist, so relative paths resolve
// against a folder that is not there. Every input must parse or throw a ConfigError with at
// least one issue.
import ConvdConfig
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: data == nil ? 0 : size), as: UTF8.self)
    do {
        let config = try DaemonConfig.parse(text, file: "/nonexistent/convd-fuzz/convd.toml")
        _ = config.folders
        note("parsed: \(config.watches.count) watches")
    } catch {
        note("\(error)")
        precondition(!error.issues.isEmpty, "a ConfigError without issues")
        _ = error.description
    }
    return 0
}
