// Tensor+Uninitialized: storage for an operator's output that it overwrites whole. No zero
// fill, and large buffers get huge pages before their first write (CConvKernels/memory.c), so a
// fresh 4096² output costs a few dozen page faults instead of sixteen thousand.
import CConvKernels

extension Tensor {
    /// A tensor of `shape` whose samples are not set.
    /// - Precondition: the caller writes every sample before anything reads it.
    public static func uninitialized(_ shape: TensorShape) -> Tensor {
        let count = shape.channels * shape.height * shape.width
        let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress {
                convd_prefer_huge_pages(base, count * MemoryLayout<Float>.stride)
            }
            initialized = count
        }
        return Tensor(channels: shape.channels, height: shape.height, width: shape.width, scalars: scalars)
    }
}
