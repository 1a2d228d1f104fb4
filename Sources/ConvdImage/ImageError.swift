// ImageError: every failure of reading, decoding or writing an image, as one line
// `<path>: <reason>` written for the person who dropped the file.

/// A failure naming the file and the reason.
public struct ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file concerned, as the user gave it.
    public let path: String
    /// Why it failed, in a few words.
    public let reason: String

    /// An error about `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `<path>: <reason>`.
    public var description: String { "\(path): \(reason)" }
}
