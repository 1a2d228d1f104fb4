// ConvdBinary: runs the built `convd` executable as a user would, capturing its output.
import Foundation

/// What a run of the binary produced.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    /// A result from its parts.
    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// The `convd` executable next to the test bundle (or `$CONVD_BINARY`).
public enum ConvdBinary {
    /// The path of the binary under test.
    public static var path: String {
        if let override = ProcessInfo.processInfo.environment["CONVD_BINARY"] { return override }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = testBinary.deletingLastPathComponent()
        // The test executable lives in .build/<triple>/debug/ (inside an .xctest bundle on macOS).
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("convd").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return ".build/debug/convd"
    }

    /// Runs `convd arguments...` to completion.
    public static func run(_ arguments: [String], in directory: String? = nil) throws -> ProcessResult {
        try runProgram(path, arguments, in: directory)
    }

    /// Runs any program to completion, capturing its output.
    public static func runProgram(_ program: String, _ arguments: [String], in directory: String? = nil) throws
        -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes before waiting so a full pipe cannot block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}
