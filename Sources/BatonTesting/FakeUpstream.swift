// An HTTP server on a loopback port whose answers a test scripts per request: a stand-in for an
// engine where the real one cannot run (vLLM, whose recorded bodies it replays) or must
// misbehave on cue (5xx, a stream cut after its first event, a first byte held back).

import Foundation
import Hummingbird
import NIOCore
import Synchronization

public final class FakeUpstream: Sendable {
    public struct Received: Sendable {
        public var path: String
        public var headers: [String: String]
        public var body: Data

        /// The body as a JSON object (nil if it is not one).
        public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    public enum Reply: Sendable {
        case json(status: Int, body: Data)
        /// SSE chunks; each waits for `release` (if given) before it is written, after the first.
        case stream(chunks: [String], release: AsyncStream<Void>? = nil)
        /// Writes the first chunk, then breaks the connection.
        case streamThenCut(first: String)
    }

    public let port: Int
    private let served: ServedApp
    private let log: Log

    final class Log: Sendable {
        let entries = Mutex<[Received]>([])
    }

    public var url: String { "http://127.0.0.1:\(port)" }
    /// Every POST received, in order.
    public var received: [Received] { log.entries.withLock { $0 } }

    struct Cut: Error {}

    /// Starts serving; `/health` is 200 and `/metrics` empty unless `reply` says otherwise for
    /// POSTs, which it answers.
    public static func start(_ reply: @escaping @Sendable (Received) async -> Reply) async throws -> FakeUpstream {
        let (ports, portSource) = AsyncStream<Int>.makeStream()
        let log = Log()
        let router = Router()
        router.get("/health") { _, _ in Response(status: .ok) }
        router.get("/metrics") { _, _ in "" }
        router.get("/v1/models") { _, _ in #"{"object":"list","data":[{"id":"smollm2","object":"model"}]}"# }
        for path in ["/v1/completions", "/v1/chat/completions", "/tokenize"] {
            router.post(RouterPath(path)) { request, _ -> Response in
                var request = request
                let body = try await request.collectBody(upTo: 64 << 20)
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName] = field.value }
                let received = Received(path: path, headers: headers, body: Data(buffer: body))
                log.entries.withLock { $0.append(received) }
                switch await reply(received) {
                case .json(let status, let data):
                    return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
                case .stream(let chunks, let release):
                    return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
                        var gate = release?.makeAsyncIterator()
                        for (i, chunk) in chunks.enumerated() {
                            if i > 0, gate != nil { _ = await gate?.next() }
                            try await writer.write(ByteBuffer(string: chunk))
                        }
                        try await writer.finish(nil)
                    })
                case .streamThenCut(let first):
                    return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
                        try await writer.write(ByteBuffer(string: first))
                        try await Task.sleep(for: .milliseconds(50))
                        throw Cut()
                    })
                }
            }
        }
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portSource.yield(channel.localAddress?.port ?? 0) })
        let served = ServedApp(app)
        var it = ports.makeAsyncIterator()
        guard let port = await it.next(), port > 0 else {
            served.stop()
            throw Cut()
        }
        return FakeUpstream(port: port, served: served, log: log)
    }

    private init(port: Int, served: ServedApp, log: Log) {
        self.port = port
        self.served = served
        self.log = log
    }

    /// Starts a graceful shutdown (see ServedApp) and returns at once.
    public func stop() { served.stop() }

    /// Shuts down and returns once serving has ended.
    public func stopAndWait() async { await served.stopAndWait() }
}
