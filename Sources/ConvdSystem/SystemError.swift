// SystemError: a failed system call — what was being done, to which path, and errno — and
// what it means for a job: a name problem or a hostile file type is permanent, a full disk or
// a busy system passes. The policy comes from the errno, never from the message text.
#if canImport(Glibc)
import Glibc
#endif

public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The path concerned, as a PathKey or as the operator wrote it.
    public let path: String
    /// What was being done: "cannot open", "read failed", ...
    public let operation: String
    /// errno, or 0 when the failure is not a system call's (a wrong file type, a limit).
    public let code: Int32
    /// The reason when there is no errno.
    public let detail: String?

    /// A failure of `operation` on `path` with errno `code`.
    public init(_ operation: String, path: String, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
        self.detail = nil
    }

    /// A failure with a reason of its own (no errno).
    public init(path: String, reason: String) {
        self.operation = reason
        self.path = path
        self.code = 0
        self.detail = reason
    }

    /// The failure of `operation` on `path` with the current errno.
    public static func errno(_ operation: String, path: String) -> SystemError {
        SystemError(operation, path: path, code: Glibc.errno)
    }

    /// `cannot open: No such file or directory`.
    public var reason: String {
        detail ?? "\(operation): \(String(cString: strerror(code)))"
    }

    /// `<path>: <reason>`.
    public var description: String { "\(path): \(reason)" }

    /// What the failure means for the job that met it.
    public var policy: FailurePolicy {
        switch code {
        case 0: return .permanent
        // The name or the tree is wrong, or is not what it claims to be: it will stay so.
        case ENAMETOOLONG, ELOOP, EILSEQ, ENOTDIR, EISDIR, EINVAL, EXDEV, EFBIG, EOVERFLOW: return .permanent
        // Space, quota, I/O, descriptors, memory, permissions an operator may fix: it may pass.
        default: return .transient
        }
    }
}

/// What a failure means for a job.
public enum FailurePolicy: String, Sendable, Equatable {
    /// The input will never process: fail it (failed_dir, one log line), do not retry.
    case permanent
    /// It may pass (disk full, EMFILE, EIO): keep the file and retry with back-off.
    case transient
    /// The process died while the job ran: counted, and failed after two.
    case crash
}
