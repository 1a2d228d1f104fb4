// BlockedConvolution: one call of CConvKernels' blocked convolution, shared by the inference
// plan and Conv2DLayer's inference forward pass.
import CConvKernels

/// Where a blocked convolution reads: planes inside a zero border, or a blocked map; the
/// pointer is the buffer's start (border included). It may cross into `parallelFor` chunks,
/// which only read through it (as `SharedReadPointer`).
enum BlockedInput: @unchecked Sendable {
    case planar(UnsafePointer<Float>, SampleShape, border: Int)
    case map(UnsafePointer<Float>, BlockedMap)
}

/// Output rows `rows` of a kernel×kernel convolution of `input`'s `channels` channels into the
/// blocked map `map` of the buffer at `output`, with `packed`'s weights and bias, ReLU if asked.
func blockedConvolve(_ input: BlockedInput, channels: Int, kernel: Int, stride: Int, dilation: Int,
                     _ packed: BlockedConvWeights, relu: Bool, output: UnsafeMutablePointer<Float>,
                     _ map: BlockedMap, rows: Range<Int>) {
    var p = convd_blocked_conv()
    switch input {
    case let .planar(pointer, shape, border):
        p.input = pointer
        p.in_row_stride = shape.width + 2 * border
        p.in_block_stride = (shape.height + 2 * border) * p.in_row_stride
        p.in_pixel_stride = 1
        p.in_block = 1
    case let .map(pointer, m):
        p.input = pointer
        p.in_row_stride = m.rowStride
        p.in_block_stride = m.blockStride
        p.in_pixel_stride = 16
        p.in_block = 16
    }
    p.channels = Int32(channels)
    p.kernel_h = Int32(kernel)
    p.kernel_w = Int32(kernel)
    p.stride = Int32(stride)
    p.dilation = Int32(dilation)
    p.output = output + map.origin
    p.out_block_stride = map.blockStride
    p.out_row_stride = map.rowStride
    p.out_blocks = Int32(map.blocks)
    p.out_channels = Int32(map.channels)
    p.out_w = Int32(map.width)
    p.row_begin = Int32(rows.lowerBound)
    p.row_end = Int32(rows.upperBound)
    p.relu = relu ? 1 : 0
    packed.weights.withUnsafeBufferPointer { w in
        packed.bias.withUnsafeBufferPointer { bias in
            p.weights = w.baseAddress
            p.bias = bias.baseAddress
            convd_conv_blocked(&p)
        }
    }
}

/// Copies rows `rows` of every channel of `shape` (channel c's plane at planes + c·planeStride)
/// into the planar buffer at `staged`, inside a zero border of `border` (the planar
/// counterpart of convd_pack_blocked; the border itself is never written).
func stagePlanar(_ planes: UnsafePointer<Float>, planeStride: Int, _ shape: SampleShape, rows: Range<Int>,
                 border: Int, into staged: UnsafeMutablePointer<Float>) {
    let rowStride = shape.width + 2 * border, padded = (shape.height + 2 * border) * rowStride
    for c in 0..<shape.channels {
        for row in rows {
            (staged + c * padded + (row + border) * rowStride + border)
                .update(from: planes + c * planeStride + row * shape.width, count: shape.width)
        }
    }
}
