// Tensor+Uninitialized: storage for an operator's output that it overwrites whole. No zero
// fill; the allocator keeps large freed blocks (LargeAllocations), so an output of the size the
// last one had reuses its pages; and a buffer the kernel must map fresh gets huge pages before
// its first write (CConvKernels/memory.c): a few dozen page faults instead of sixteen thousand.
import CConvKernels

extension Tensor {
    /// A tensor of `shape` whose samples are not set.
    /// - Precondition: the caller writes every sample before anything reads it.
    public static func uninitialized(_ shape: TensorShape) -> Tensor {
        keepLargeAllocations()  // the last output's freed block serves the next one
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
