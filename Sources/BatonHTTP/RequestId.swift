// Request ids made here for `X-Request-Id`: 32 lowercase hex digits of system randomness.

/// Request ids made here: 32 lowercase hex digits of system randomness.
public enum RequestId {
    public static func make() -> String {
        var rng = SystemRandomNumberGenerator()
        return make(using: &rng)
    }

    /// An id from `rng`'s next 128 bits.
    public static func make<G: RandomNumberGenerator>(using rng: inout G) -> String {
        let (a, b): (UInt64, UInt64) = (rng.next(), rng.next())
        return String(unsafeUninitializedCapacity: 32) { out in
            for i in 0..<32 {
                let nibble = Int(((i < 16 ? a : b) >> (60 - 4 * UInt64(i % 16))) & 0xF)
                out[i] = UInt8(ascii: "0") + UInt8(nibble) + (nibble > 9 ? 39 : 0)
            }
            return 32
        }
    }
}
