// CheckedSize: element and byte counts computed from dimensions that come from files
// (model headers, architecture tables, .npy shapes, chain text) without an overflow trap:
// a product that does not fit an Int, or a negative factor, gives nil.

/// Overflow-checked size arithmetic.
public enum CheckedSize {
    /// The product of `factors`, or nil when a factor is negative or the product overflows.
    public static func product(_ factors: [Int]) -> Int? {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let (next, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            result = next
        }
        return result
    }

    /// The product of `factors` (see `product(_:)` for an array).
    public static func product(_ factors: Int...) -> Int? { product(factors) }

    /// `a + b`, or nil when either is negative or the sum overflows.
    public static func sum(_ a: Int, _ b: Int) -> Int? {
        guard a >= 0, b >= 0 else { return nil }
        let (result, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : result
    }
}
