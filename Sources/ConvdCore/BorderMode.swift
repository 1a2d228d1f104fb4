// BorderMode: what a window reads when a tap falls in the padding (conv-semantics.md §1).

/// The value of samples outside the input.
public enum BorderMode: String, Sendable, CaseIterable {
    /// Zero (the lecture notes' padding).
    case zero
    /// The nearest edge sample (OpenCV BORDER_REPLICATE): `aaa|abcd|ddd`.
    case replicate
    /// Mirror without repeating the edge (OpenCV BORDER_REFLECT_101): `dcb|abcd|cba`.
    case reflect

    /// Maps an index that may lie outside `0..<size` to the index whose sample it reads,
    /// or nil for a zero border.
    @inline(__always)
    public func resolve(_ index: Int, size: Int) -> Int? {
        if index >= 0 && index < size { return index }
        switch self {
        case .zero:
            return nil
        case .replicate:
            return index < 0 ? 0 : size - 1
        case .reflect:
            if size == 1 { return 0 }
            let period = 2 * (size - 1)
            var i = index % period
            if i < 0 { i += period }
            return i < size ? i : period - i
        }
    }
}
