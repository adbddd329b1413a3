// The engine's metrics under vLLM's names (`vllm:*`, labelled `model_name`), so dashboards and
// schedulers that scrape vLLM read Baton unchanged. Emitted through swift-metrics into whatever
// factory the server gives (Prometheus in `baton engine`); no global bootstrap.

import BatonModel
import CoreMetrics
import Metrics
import Synchronization

public final class EngineMetrics: Sendable {
    let running: Gauge
    let waiting: Gauge
    let kvCacheUsage: Gauge
    /// Prompt tokens of waiting and running requests not prefilled yet: the load a prefill
    /// pool scales on (`target_metric: queued_prompt_tokens`).
    let promptTokensQueued: Gauge
    let prefixCacheQueries: Counter
    let prefixCacheHits: Counter
    let promptTokens: Counter
    let generationTokens: Counter
    let preemptions: Counter
    let timeToFirstToken: Recorder
    let interTokenLatency: Recorder
    let e2eLatency: Recorder
    let queueTime: Recorder
    /// Prefill/decode: blocks a producer holds for decoders, and leases that ran out.
    let kvBlocksHeld: Gauge
    let kvLeaseExpired: Counter
    /// A consumer's pulls: bytes and blocks moved, pulls that failed, seconds per pull.
    public let kvTransferBytes: Counter
    public let kvTransferBlocks: Counter
    public let kvTransferFailures: Counter
    public let kvTransferSeconds: Recorder
    /// Requests whose remote KV could not be used (recomputed or failed), by reason.
    private let kvLoadFailures: [KVLoadFailureReason: Counter]
    private let success: [FinishReason: Counter]
    private let prefixSeen: Mutex<(queries: Int, hits: Int)>

    /// Bucket bounds (seconds) of each latency histogram, vLLM's.
    public static let histogramBuckets: [String: [Double]] = [
        "vllm:time_to_first_token_seconds": [
            0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
            20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
        ],
        "vllm:inter_token_latency_seconds": [
            0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
            40.0, 80.0,
        ],
        "vllm:e2e_request_latency_seconds": [
            0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
            480.0, 960.0, 1920.0, 7680.0,
        ],
        "vllm:request_queue_time_seconds": [
            0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
            480.0, 960.0, 1920.0, 7680.0,
        ],
        "baton_kv_transfer_seconds": [
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ],
    ]

    /// Metrics that go nowhere (tests, `baton generate`).
    public convenience init() { self.init(modelName: "", factory: NOOPMetricsHandler.instance) }

    public init(modelName: String, factory: any MetricsFactory) {
        let labels = [("model_name", modelName)]
        running = Gauge(label: "vllm:num_requests_running", dimensions: labels, factory: factory)
        waiting = Gauge(label: "vllm:num_requests_waiting", dimensions: labels, factory: factory)
        kvCacheUsage = Gauge(label: "vllm:kv_cache_usage_perc", dimensions: labels, factory: factory)
        promptTokensQueued = Gauge(label: "baton_prompt_tokens_queued", dimensions: labels, factory: factory)
        prefixCacheQueries = Counter(label: "vllm:prefix_cache_queries_total", dimensions: labels, factory: factory)
        prefixCacheHits = Counter(label: "vllm:prefix_cache_hits_total", dimensions: labels, factory: factory)
        promptTokens = Counter(label: "vllm:prompt_tokens_total", dimensions: labels, factory: factory)
        generationTokens = Counter(label: "vllm:generation_tokens_total", dimensions: labels, factory: factory)
        preemptions = Counter(label: "vllm:num_preemptions_total", dimensions: labels, factory: factory)
        timeToFirstToken = Recorder(label: "vllm:time_to_first_token_seconds", dimensions: labels, factory: factory)
        interTokenLatency = Recorder(label: "vllm:inter_token_latency_seconds", dimensions: labels, factory: factory)
        e2eLatency = Recorder(label: "vllm:e2e_request_latency_seconds", dimensions: labels, factory: factory)
        queueTime = Recorder(label: "vllm:request_queue_time_seconds", dimensions: labels, factory: factory)
        kvBlocksHeld = Gauge(label: "baton_kv_blocks_held", dimensions: labels, factory: factory)
        kvLeaseExpired = Counter(label: "baton_kv_lease_expired_total", dimensions: labels, factory: factory)
        kvTransferBytes = Counter(label: "baton_kv_transfer_bytes_total", dimensions: labels, factory: factory)
        kvTransferBlocks = Counter(label: "baton_kv_transfer_blocks_total", dimensions: labels, factory: factory)
        kvTransferFailures = Counter(label: "baton_kv_transfer_failures_total", dimensions: labels, factory: factory)
        kvTransferSeconds = Recorder(label: "baton_kv_transfer_seconds", dimensions: labels, factory: factory)
        var loadFailures: [KVLoadFailureReason: Counter] = [:]
        for reason in KVLoadFailureReason.allCases {
            loadFailures[reason] = Counter(
                label: "baton_kv_load_failures_total", dimensions: labels + [("reason", reason.rawValue)], factory: factory)
        }
        kvLoadFailures = loadFailures
        var success: [FinishReason: Counter] = [:]
        for reason in [FinishReason.stop, .length, .abort] {
            success[reason] = Counter(
                label: "vllm:request_success_total", dimensions: labels + [("finished_reason", reason.rawValue)],
                factory: factory)
        }
        self.success = success
        prefixSeen = Mutex((0, 0))
        // Series exist from the start at 0, as in vLLM.
        running.record(0)
        waiting.record(0)
        kvCacheUsage.record(0)
        promptTokensQueued.record(0)
        kvBlocksHeld.record(0)
    }

    func kvLoadFailed(_ reason: KVLoadFailureReason) { kvLoadFailures[reason]?.increment() }

    func requestFinished(reason: FinishReason, e2e: Double) {
        success[reason]?.increment()
        e2eLatency.record(e2e)
    }

    /// The cache manager keeps running totals; counters take the increase.
    func recordPrefixCache(queries: Int, hits: Int) {
        prefixSeen.withLock { seen in
            if queries > seen.queries { prefixCacheQueries.increment(by: queries - seen.queries) }
            if hits > seen.hits { prefixCacheHits.increment(by: hits - seen.hits) }
            seen = (queries, hits)
        }
    }
}
