// fuzz-safetensors: ModelFile.decode on arbitrary bytes (the 8-byte header length, the JSON
// header and __metadata__, the architecture it describes, every tensor's dtype, shape and
// data_offsets). Every input must decode or throw a ModelFileError; a decoded model's output
// count matches its labels.
import ConvdNet
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        let model = try ModelFile.decode(bytes, path: "fuzz.safetensors")
        precondition(model.network.outputCount == model.labels.count, "outputs and labels differ")
        note("decoded: \(model.labels.count) labels, \(model.network.layers.count) layers")
    } catch {
        note("\(error)")
        precondition(!error.reason.isEmpty, "an empty reason")
    }
    return 0
}
