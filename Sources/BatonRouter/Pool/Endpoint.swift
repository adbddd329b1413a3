// One engine replica the router sends requests to (its load: EndpointLoad.swift).

public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// `http://host:port`, no trailing slash.
    public let url: String
    public let host: String
    public let port: Int
    /// `host:port`, the `Host` header of requests to it (made once, not per request).
    public let hostHeader: String

    init(url: String, host: String, port: Int) {
        self.url = url
        self.host = host
        self.port = port
        hostHeader = "\(host):\(port)"
    }

    /// `http://host:port` (a trailing `/` is dropped); nil for anything else.
    public static func parse(_ text: String) -> Endpoint? {
        var s = Substring(text)
        guard s.hasPrefix("http://") else { return nil }
        s = s.dropFirst(7)
        while s.hasSuffix("/") { s = s.dropLast() }
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (1...65535).contains(port) else {
            return nil
        }
        let host = String(s[..<colon])
        guard !host.isEmpty, !host.contains("/") else { return nil }
        return Endpoint(url: "http://\(host):\(port)", host: host, port: port)
    }

    public var description: String { url }

    // The URL names the endpoint (host, port and the Host header are made from it): one string
    // hashed per lookup, not three.
    public static func == (a: Endpoint, b: Endpoint) -> Bool { a.url == b.url }
    public func hash(into hasher: inout Hasher) { hasher.combine(url) }
}
