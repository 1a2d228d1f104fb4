// fuzz-chain: FilterChain(parsing:) on arbitrary text (the chain syntax of DESIGN.md §3, as
// `convd filter --chain` and the config's [chains] give it). A chain must parse or throw a
// ChainError; a parsed chain's shape rules must answer for small gray and RGB inputs, and
// when the shapes work out and the work is small the chain is applied to a tiny image, whose
// result must have the predicted shape.
import ConvdCore
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChain(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: data == nil ? 0 : size), as: UTF8.self)
    let chain: FilterChain
    do {
        chain = try FilterChain(parsing: text)
    } catch {
        note("\(error)")
        return 0
    }
    note("parsed \(chain.entries.count) steps")
    _ = try? chain.checkForImages()
    for input in [TensorShape(channels: 1, height: 7, width: 9), TensorShape(channels: 3, height: 8, width: 8)] {
        guard let shapes = try? chain.shapes(for: input) else { continue }
        precondition(shapes.count == chain.entries.count, "\(shapes.count) shapes for \(chain.entries.count) steps")
        guard let expected = shapes.last, work(chain, input, shapes) <= 2_000_000 else { continue }
        let image = Tensor(channels: input.channels, height: input.height, width: input.width,
                           scalars: (0..<(input.channels * input.height * input.width)).map { Float($0 % 7) / 6 })
        guard let out = try? chain.apply(image, threads: 1) else { fatalError("apply failed after shapes passed") }
        precondition(out.shape == expected, "applied shape \(out.shape), predicted \(expected)")
    }
    return 0
}

/// Multiply-adds of the convolutions plus the sizes of the intermediate maps (a bound on run time).
private func work(_ chain: FilterChain, _ input: TensorShape, _ shapes: [TensorShape]) -> Double {
    var total = 0.0
    for (i, entry) in chain.entries.enumerated() {
        let out = shapes[i], inShape = i == 0 ? input : shapes[i - 1]
        let elements = Double(out.channels) * Double(out.height) * Double(out.width)
        total += elements
        if case .convolution(let conv) = entry.step, let k = conv.kernels.first {
            total += elements * Double(k.depth * k.height * k.width) * Double(max(1, inShape.channels))
        }
        if case .pool(let p) = entry.step { total += elements * Double(p.window) * Double(p.window) }
    }
    return total
}
