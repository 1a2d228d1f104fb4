// convd_pack_blocked / convd_unpack_blocked (CConvKernels, NCHW ↔ NCHW16c) against their
// definition: channel c, pixel (y, x) of the planes is lane c % 16 of block c / 16 at row y,
// column x of the blocked map. Widths below, at and past 16 (the vector path runs across row
// ends), heights that leave a tail, whole and partial blocks, a border in the blocked map and
// planes further apart than one map (a channel-major batch); nothing outside the map is
// written, and packing or unpacking some rows (a row-split convolution) touches only those.
import CConvKernels
import Testing

@Suite("blocked layout")
struct BlockedLayoutTests {
    @Test("pack and unpack equal the definition and are each other's inverse")
    func packUnpack() {
        for channels in [1, 3, 8, 16, 17, 32, 40] {
            for (height, width) in [(1, 1), (4, 4), (7, 7), (14, 14), (3, 5), (2, 16), (5, 17), (28, 28), (9, 33)] {
                let border = (height + width) % 3
                let planeStride = height * width + 5  // planes of a batch: not back to back
                let blocks = (channels + 15) / 16
                let rowStride = (width + 2 * border) * 16, blockStride = (height + 2 * border) * rowStride
                let origin = border * rowStride + border * 16
                let planes = (0..<(channels * planeStride)).map { Float($0) * 0.5 + 1 }
                let sentinel: Float = -7
                var blocked = [Float](repeating: sentinel, count: blocks * blockStride)
                blocked.withUnsafeMutableBufferPointer { out in
                    convd_pack_blocked(planes, planeStride, Int32(channels), Int32(height), Int32(width),
                                       out.baseAddress! + origin, blockStride, rowStride)
                }
                var expected = [Float](repeating: sentinel, count: blocked.count)
                for c in 0..<channels {
                    for y in 0..<height {
                        for x in 0..<width {
                            expected[origin + (c / 16) * blockStride + y * rowStride + x * 16 + c % 16]
                                = planes[c * planeStride + y * width + x]
                        }
                    }
                }
                #expect(blocked == expected, "pack \(channels)×\(height)×\(width) border \(border)")
                var back = [Float](repeating: sentinel, count: planes.count)
                blocked.withUnsafeBufferPointer { map in
                    convd_unpack_blocked(map.baseAddress! + origin, blockStride, rowStride, Int32(channels),
                                         Int32(height), Int32(width), &back, planeStride)
                }
                let unpacked = (0..<planes.count).map { $0 % planeStride < height * width ? planes[$0] : sentinel }
                #expect(back == unpacked, "unpack \(channels)×\(height)×\(width) border \(border)")
            }
        }
    }

    @Test("packing and unpacking some rows of a map touch only those rows")
    func someRows() {
        let (channels, height, width) = (32, 7, 7)
        let rowStride = width * 16, blockStride = height * rowStride, plane = height * width
        let planes = (0..<(channels * plane)).map { Float($0) + 1 }
        let sentinel: Float = -7
        for (first, last) in [(0, 3), (3, 7), (2, 5), (6, 7)] {
            var blocked = [Float](repeating: sentinel, count: 2 * blockStride)
            planes.withUnsafeBufferPointer { source in
                blocked.withUnsafeMutableBufferPointer { out in
                    convd_pack_blocked(source.baseAddress! + first * width, plane, Int32(channels), Int32(last - first),
                                       Int32(width), out.baseAddress! + first * rowStride, blockStride, rowStride)
                }
            }
            for c in 0..<channels {
                for y in 0..<height {
                    for x in 0..<width {
                        let value = blocked[(c / 16) * blockStride + y * rowStride + x * 16 + c % 16]
                        #expect(value == ((first..<last).contains(y) ? planes[c * plane + y * width + x] : sentinel),
                                "pack rows \(first)..<\(last): channel \(c) (\(y), \(x))")
                    }
                }
            }
            var back = [Float](repeating: sentinel, count: planes.count)
            blocked.withUnsafeBufferPointer { map in
                back.withUnsafeMutableBufferPointer { out in
                    convd_unpack_blocked(map.baseAddress! + first * rowStride, blockStride, rowStride, Int32(channels),
                                         Int32(last - first), Int32(width), out.baseAddress! + first * width, plane)
                }
            }
            #expect(back == (0..<planes.count).map { (first..<last).contains($0 % plane / width) ? planes[$0] : sentinel },
                    "unpack rows \(first)..<\(last)")
        }
    }
}
