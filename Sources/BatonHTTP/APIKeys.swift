// API key checks (constant-time) shared by the API key middleware and the router's fast lane.

/// API key checks shared by the middleware and the router's fast lane.
public enum APIKeys {
    /// Whether `given` equals one of `keys`, in time that depends only on the lengths.
    public static func matchesAny(_ given: [UInt8], _ keys: [[UInt8]]) -> Bool {
        var matched: UInt8 = 0
        for key in keys { matched |= constantTimeEqual(given, key) ? 1 : 0 }
        return matched == 1
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = a.count ^ b.count
        for i in 0..<b.count { diff |= Int((i < a.count ? a[i] : 0) ^ b[i]) }
        return diff == 0
    }
}
