// A router on a loopback port in front of FakeUpstreams, for proxy tests: no health service
// (every endpoint starts healthy and changes only by what the requests do), a tokenizer that
// counts one token per prompt byte so a test sets the length.

import AsyncHTTPClient
import BatonModel
import BatonOpenAI
import BatonRouter
import BatonTesting
import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// One token per UTF-8 byte of the prompt (or of the messages' contents).
struct ByteTokenizer: LocalTokenizing {
    func tokens(_ source: PromptFields.Source) -> [Int32] {
        var none = BPECache(capacity: 0)
        return tokensNow(source, cache: &none)
    }

    func tokensNow(_ source: PromptFields.Source, cache: inout BPECache) -> [Int32] {
        switch source {
        case .chat(let messages, _): messages.map(\.content).joined().utf8.map { Int32($0) }
        case .text(let text): text.utf8.map { Int32($0) }
        case .ids(let ids): ids
        }
    }
}

/// ByteTokenizer that takes `delay` seconds per prompt, on the fast lane's loop as on the slow path.
struct SlowTokenizer: LocalTokenizing {
    let delay: Double

    func tokens(_ source: PromptFields.Source) -> [Int32] {
        var none = BPECache(capacity: 0)
        return tokensNow(source, cache: &none)
    }

    func tokensNow(_ source: PromptFields.Source, cache: inout BPECache) -> [Int32] {
        Thread.sleep(forTimeInterval: delay)
        return ByteTokenizer().tokensNow(source, cache: &cache)
    }
}

struct LiveRouter {
    let core: RouterCore
    let registry: PrometheusCollectorRegistry
    let port: Int
    let served: ServedApp
    let upstream: Upstream

    static func start(
        prefill: [String], decode: [String], tokenizer: any PromptTokenizer = ByteTokenizer(), _ configure: (inout RouterConfig) -> Void = { _ in }
    ) async throws -> LiveRouter {
        var config = RouterConfig(prefill: prefill, decode: decode)
        config.splitThreshold = 100
        configure(&config)
        let registry = PrometheusCollectorRegistry()
        let upstream = Upstream(timeouts: config.timeouts, connectionsPerEndpoint: 16)
        let core = RouterCore(
            config: config, upstream: upstream, tokenizer: tokenizer,
            metrics: RouterMetrics(factory: RouterServer.metricsFactory(registry: registry)), logger: Logger(label: "test.router"))
        let (ports, source) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: RouterServer.router(core: core, registry: registry), server: .router(core),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { source.yield($0.localAddress?.port ?? 0) })
        let served = ServedApp(app)
        var it = ports.makeAsyncIterator()
        let port = await it.next() ?? 0
        return LiveRouter(core: core, registry: registry, port: port, served: served, upstream: upstream)
    }

    /// Shuts down gracefully (see ServedApp), then the router's engine clients.
    func stop() async {
        await served.stopAndWait()
        try? await upstream.shutdown()
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// POSTs and reads the whole answer.
    func post(_ path: String, _ body: String, headers: [(String, String)] = []) async throws -> (status: Int, headers: [String: String], body: String) {
        var request = HTTPClientRequest(url: url + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let data = try await response.body.collect(upTo: 16 << 20)
        var h: [String: String] = [:]
        for (k, v) in response.headers { h[k.lowercased()] = v }
        return (Int(response.status.code), h, String(buffer: data))
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url + path)
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 16 << 20)))
    }

    func metrics() -> String {
        var buffer = [UInt8]()
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

func completionJSON(_ text: String, kv: String? = nil) -> Data {
    let params = kv.map { #","kv_transfer_params":\#($0)"# } ?? ""
    return Data(#"{"id":"cmpl-1","object":"text_completion","model":"smollm2","choices":[{"index":0,"text":"\#(text)","finish_reason":"length"}]\#(params)}"#.utf8)
}

let prefillParams = #"{"do_remote_prefill":true,"do_remote_decode":false,"remote_block_ids":[[4,5]],"remote_engine_id":"p","remote_request_id":"r","remote_host":"127.0.0.1","remote_port":5600,"tp_size":1,"transfer_mode":"pull"}"#
