// NetworkLimits and NetworkPlan (security audit #14b-d): absurd hyper-parameters, inputs,
// tensors and parameter totals are refused before any weight is allocated, with a message
// naming the layer and the limit; the plan agrees with the networks it lets through.
@testable import ConvdNet
import ConvdCore
import Testing

private func conv(_ filters: Int, _ size: Int, padding: Int = 0) -> LayerSpec {
    .conv2d(filters: filters, size: size, stride: 1, padding: padding, dilation: 1, bias: true)
}

private func planError(_ input: SampleShape, _ specs: [LayerSpec]) -> ArchitectureError? {
    do {
        _ = try NetworkPlan(input: input, specs: specs)
        return nil
    } catch {
        return error
    }
}

@Suite("network limits")
struct NetworkLimitTests {
    @Test("filters = 999999999 (36 GB of weights) and size = 999999999 (an overflow) name the layer and the limit")
    func hyperParameters() {
        #expect(planError(Preset.input, [conv(999_999_999, 3), .globalAvgpool])
                == ArchitectureError(layer: 1, message: "conv2d 999999999×3×3: 999999999 filters exceed the limit of 65536"))
        #expect(planError(Preset.input, [.relu, conv(4, 999_999_999), .globalAvgpool])
                == ArchitectureError(layer: 2, message: "conv2d 4×999999999×999999999: size 999999999 exceeds the limit of 1025"))
        #expect(planError(Preset.input, [.conv2d(filters: 4, size: 3, stride: 1, padding: 70000, dilation: 1, bias: true)])?
                    .message == "conv2d 4×3×3, pad 70000: padding 70000 exceeds the limit of 65536")
        #expect(planError(Preset.input, [.maxpool(size: 5000, stride: 2), .dense(units: 2)])?.message
                == "maxpool 5000×5000, stride 2: size 5000 exceeds the limit of 1025")
        #expect(planError(Preset.input, [.dense(units: 1 << 40)])
                == ArchitectureError(layer: 1, message: "dense 1099511627776 units: 1099511627776 units exceed the limit of 65536"))
    }

    @Test("an input of 3037000500² (whose square overflows Int) or past 2^30 values is refused")
    func inputs() {
        #expect(planError(SampleShape(channels: 1, height: 3_037_000_500, width: 3_037_000_500), [.dense(units: 10)])
                == ArchitectureError(layer: nil, message: "input height 3037000500 exceeds the limit of 65536"))
        #expect(planError(SampleShape(channels: 1, height: 65536, width: 65536), [.dense(units: 10)])
                == ArchitectureError(layer: nil, message: "the input 1×65536×65536 would have 4294967296 values, "
                                     + "over the limit of 1073741824"))
    }

    @Test("weights, outputs, conv's unfolded input and the parameter total are each capped")
    func tensors() {
        #expect(planError(SampleShape(channels: 1, height: 32768, width: 32768), [.dense(units: 65536)])
                == ArchitectureError(layer: 1, message: "dense 65536 units: the weights would have 70368744177664 "
                                     + "values, over the limit of 1073741824"))
        #expect(planError(SampleShape(channels: 1, height: 4096, width: 4096), [conv(65536, 1), .globalAvgpool])
                == ArchitectureError(layer: 1, message: "conv2d 65536×1×1: the output 65536×4096×4096 would have "
                                     + "1099511627776 values, over the limit of 1073741824"))
        #expect(planError(SampleShape(channels: 64, height: 1024, width: 1024), [conv(1, 5, padding: 2), .globalAvgpool])
                == ArchitectureError(layer: 1, message: "conv2d 1×5×5, pad 2: the unfolded input would have "
                                     + "1677721600 values, over the limit of 1073741824"))
        // 2^28 weights fit one tensor, but with the bias the total passes 2^28 parameters.
        #expect(planError(SampleShape(channels: 16384, height: 1, width: 1), [.dense(units: 16384)])
                == ArchitectureError(layer: 1, message: "dense 16384 units: the network would have more than "
                                     + "268435456 parameters, the limit"))
    }

    @Test("the refusals are immediate: nothing of the requested size is allocated")
    func immediate() {
        let start = ContinuousClock.now
        for _ in 0..<100 { _ = planError(Preset.input, [conv(65536, 1025), .globalAvgpool]) }
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test("the plan matches the networks it accepts: shapes, parameters and stored values")
    func agreesWithNetworks() throws {
        for preset in Preset.allCases {
            let plan = try NetworkPlan(input: Preset.input, specs: preset.specs)
            let network = try Network(input: Preset.input, specs: preset.specs)
            #expect(plan.parameterCount == network.parameterCount)
            #expect(plan.storedCount == network.parameterCount)
            #expect(plan.shapes == network.layers.filter { $0.spec != .flatten || preset.specs.contains(.flatten) }
                .map(\.outputShape))
        }
        let model = try smallModel()
        let plan = try NetworkPlan(input: model.network.inputShape, specs: model.network.specs)
        #expect(plan.parameterCount == model.network.parameterCount)
        #expect(plan.storedCount == model.network.parameterCount + model.network.buffers.reduce(0) { $0 + $1.value.count })
    }

    @Test("a whole number past the old 1e9 bound reaches the limit check; a fraction is still refused")
    func fields() throws {
        let spec = try LayerSpec(fields: ["type": .string("dense"), "units": .number(5e12)], layer: 2)
        #expect(spec == .dense(units: 5_000_000_000_000))
        #expect(throws: ArchitectureError(layer: 2, message: "dense: units must be a whole number")) {
            try LayerSpec(fields: ["type": .string("dense"), "units": .number(2.5)], layer: 2)
        }
        #expect(throws: ArchitectureError(layer: 2, message: "dense: units must be a whole number")) {
            try LayerSpec(fields: ["type": .string("dense"), "units": .number(1e300)], layer: 2)
        }
    }
}
