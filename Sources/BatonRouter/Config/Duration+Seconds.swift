// Durations as the numbers metrics, timeouts and plans are written in.

extension Duration {
    /// Seconds, fractional.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }

    /// Whole nanoseconds (NIO's `TimeAmount`).
    var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
