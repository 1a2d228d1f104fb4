// MeasuredRun: runs a program to completion and reports its peak resident set size
// (wait4's ru_maxrss), for tests that bound what a hostile input may cost in memory.
import Foundation

/// What a measured run produced.
public struct MeasuredResult: Sendable {
    public let status: Int32
    /// Peak RSS of the child, in KiB.
    public let peakKiB: Int
    public let stderr: String
}

extension ConvdBinary {
    /// Runs `convd arguments...`; stdout is discarded, stderr captured.
    public static func runMeasured(_ arguments: [String]) throws -> MeasuredResult {
        let folder = TemporaryDirectory()
        let errPath = folder.file("stderr")
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw CocoaError(.executableLoad) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return MeasuredResult(status: exit, peakKiB: Int(usage.ru_maxrss), stderr: text)
    }
}
