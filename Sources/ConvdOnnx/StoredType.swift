// StoredType: the element types a TensorProto may store, how their little-endian bytes become
// float32 or int64 values, and what a Cast to each of them does to a value.

/// The element types a tensor may be stored in, and how each becomes float32 or int64.
enum StoredType: Int {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, bool = 9, float16 = 10,
         double = 11, uint32 = 12, uint64 = 13, bfloat16 = 16

    var byteWidth: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16, .float16, .bfloat16: 2
        case .float, .int32, .uint32: 4
        case .int64, .double, .uint64: 8
        }
    }

    /// Little-endian `raw` as a tensor of `shape`.
    func decode(_ raw: [UInt8], shape: [Int]) -> OnnxTensor {
        let n = raw.count / byteWidth
        func word(_ i: Int, _ width: Int) -> UInt64 {
            var v: UInt64 = 0
            for b in 0..<width { v |= UInt64(raw[i * width + b]) << (8 * b) }
            return v
        }
        switch self {
        case .float:
            return OnnxTensor(shape: shape, floats: raw.withUnsafeBytes { buffer in
                (0..<n).map { Float(bitPattern: UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: $0 * 4,
                                                                                          as: UInt32.self))) }
            })
        case .double: return OnnxTensor(shape: shape, floats: (0..<n).map { Float(Double(bitPattern: word($0, 8))) })
        case .float16: return OnnxTensor(shape: shape, floats: (0..<n).map { Self.half(UInt16(word($0, 2))) })
        case .bfloat16: return OnnxTensor(shape: shape, floats: (0..<n).map { Float(bitPattern: UInt32(word($0, 2)) << 16) })
        case .int64: return OnnxTensor(shape: shape, ints: (0..<n).map { Int64(bitPattern: word($0, 8)) })
        case .uint64: return OnnxTensor(shape: shape, ints: (0..<n).map { Int64(clamping: word($0, 8)) })
        case .int32: return OnnxTensor(shape: shape, ints: (0..<n).map { Int64(Int32(bitPattern: UInt32(word($0, 4)))) })
        case .uint32: return OnnxTensor(shape: shape, ints: (0..<n).map { Int64(word($0, 4)) })
        case .int16: return OnnxTensor(shape: shape, ints: (0..<n).map { Int64(Int16(bitPattern: UInt16(word($0, 2)))) })
        case .uint16: return OnnxTensor(shape: shape, ints: (0..<n).map { Int64(word($0, 2)) })
        case .int8: return OnnxTensor(shape: shape, ints: raw.map { Int64(Int8(bitPattern: $0)) })
        case .uint8: return OnnxTensor(shape: shape, ints: raw.map { Int64($0) })
        case .bool: return OnnxTensor(shape: shape, ints: raw.map { $0 != 0 ? 1 : 0 }, type: .bool)
        }
    }

    /// `value` cut to this integer type's width, as a C cast wraps (other types unchanged).
    func wrap(_ value: Int64) -> Int64 {
        switch self {
        case .uint8: Int64(UInt8(truncatingIfNeeded: value))
        case .int8: Int64(Int8(truncatingIfNeeded: value))
        case .uint16: Int64(UInt16(truncatingIfNeeded: value))
        case .int16: Int64(Int16(truncatingIfNeeded: value))
        case .int32: Int64(Int32(truncatingIfNeeded: value))
        case .uint32: Int64(UInt32(truncatingIfNeeded: value))
        default: value
        }
    }

    /// `value` in this type's precision (half or bfloat16; others unchanged), as a Cast to it
    /// gives it: half rounds to nearest even; bfloat16 keeps the upper 16 bits, as ONNX's
    /// reference cases (opset 13) expect.
    func round(_ value: Float) -> Float {
        switch self {
        case .float16: return Float(Float16(value))
        case .bfloat16: return Float(bitPattern: value.bitPattern & 0xFFFF_0000)
        default: return value
        }
    }

    /// IEEE half precision to single.
    static func half(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31, exponent = Int(h >> 10) & 0x1F, mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        if exponent == 0 {
            let value = Float(mantissa) * 0x1p-24
            return sign == 0 ? value : -value
        }
        return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
    }
}

/// An ONNX element type number by name, for messages.
func typeName(_ type: Int) -> String {
    let names = [1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64", 8: "STRING",
                 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64",
                 15: "COMPLEX128", 16: "BFLOAT16"]
    return names[type] ?? "type \(type)"
}
