// DatasetError: why a dataset cannot be read, as `<path>: <reason>`.

/// A dataset failure naming the file or folder.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    /// The file or folder.
    public let path: String
    /// What is wrong.
    public let reason: String

    /// An error about `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `<path>: <reason>`.
    public var description: String { "\(path): \(reason)" }
}
