// fuzz-png: PNGCodec.header and PNGCodec.decode (Swift over the C shim over libpng) on
// arbitrary bytes. Every input must decode or throw an ImageError; a decoded tensor must have
// the header's shape and finite samples in 0...1 (unit scale, black background).
import ConvdCore
import ConvdImage
import FuzzSupport

// Small limits keep a tiny file that claims 50 Mpixel from allocating hundreds of MB per run;
// the limit checks themselves are part of what is fuzzed.
private let options = DecodeOptions(limits: ImageLimits(maxPixels: 1 << 20, maxFileBytes: 1 << 20))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let header = try? PNGCodec.header(of: bytes, path: "fuzz.png")
    let tensor: Tensor
    do {
        tensor = try PNGCodec.decode(bytes, path: "fuzz.png", options: options)
    } catch {
        note("\(error)")
        return 0
    }
    note("decoded \(tensor.shape)")
    guard let header else { fatalError("decode succeeded where the header was refused") }
    precondition(tensor.width == header.width && tensor.height == header.height,
                 "decoded \(tensor.width)×\(tensor.height), header says \(header.width)×\(header.height)")
    precondition(tensor.channels == header.tensorChannels, "decoded \(tensor.channels) channels for \(header.colorType)")
    precondition(tensor.scalars.count == tensor.channels * tensor.height * tensor.width, "sample count")
    precondition(tensor.scalars.allSatisfy { $0 >= 0 && $0 <= 1 }, "a unit-scale sample outside 0...1")
    return 0
}
