// ParallelFor: the only threading in ConvdCore. Splits an index range into contiguous chunks,
// one per thread, and runs them on WorkPool's spinning helpers (or, when the pool is busy with
// another region, on Dispatch's pool); with one thread it runs inline.
import Dispatch

/// Runs `body` over `0..<count` split into at most `threads` contiguous chunks, in parallel.
/// `body` must only write to memory that no other chunk touches.
public func parallelFor(_ count: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) {
    let chunks = max(1, min(threads, count))
    if chunks == 1 {
        if count > 0 { body(0..<count) }
        return
    }
    if WorkPool.shared.run(count: count, chunks: chunks, body) { return }
    DispatchQueue.concurrentPerform(iterations: chunks) { i in
        let lower = count * i / chunks
        let upper = count * (i + 1) / chunks
        if lower < upper { body(lower..<upper) }
    }
}

/// A pointer that may cross into `parallelFor` chunks; each chunk writes a disjoint part.
public struct SharedPointer<Pointee>: @unchecked Sendable {
    /// The wrapped pointer.
    public let pointer: UnsafeMutablePointer<Pointee>

    /// Wraps `pointer`.
    public init(_ pointer: UnsafeMutablePointer<Pointee>) {
        self.pointer = pointer
    }
}

/// A read-only pointer that may cross into `parallelFor` chunks, which only read through it.
public struct SharedReadPointer<Pointee>: @unchecked Sendable {
    /// The wrapped pointer.
    public let pointer: UnsafePointer<Pointee>

    /// Wraps `pointer`.
    public init(_ pointer: UnsafePointer<Pointee>) {
        self.pointer = pointer
    }
}
