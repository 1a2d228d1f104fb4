// LargeAllocations: glibc hands every allocation above its mmap threshold (which grows to
// 32 MB at most) to the kernel as a fresh mapping, and unmaps it on free: each one's pages
// fault in and are zeroed again on first touch. A network's layers allocate and free maps of
// the same sizes image after image, so MobileNetV2 at batch 8 (maps up to 38 MB) spent a
// quarter of its time there (91 → 71 ms a batch on one thread); a filter's fresh 4096² output
// (64 MiB) spent half of a 3×3 pass zeroing pages. Keeping blocks up to 128 MB in the heap,
// and up to 256 MB of free heap before it is trimmed, lets the next layer, image or job reuse
// them. Process-wide, set once, by whoever allocates large outputs (`Tensor.uninitialized`,
// the ONNX runner).
import CConvKernels

/// Makes the allocator keep large freed blocks for reuse (see above). Idempotent.
public func keepLargeAllocations() {
    _ = largeAllocationsKept
}

private let largeAllocationsKept = convd_keep_large_allocations(128 << 20, 256 << 20) == 1
