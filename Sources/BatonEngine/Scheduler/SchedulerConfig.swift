// Scheduler limits, with vLLM's names and sensible CPU defaults.

public struct SchedulerConfig: Sendable, Equatable {
    /// Most sequences in one step (`--max-num-seqs`).
    public var maxNumSeqs: Int
    /// Token budget of one step, prefill chunks and decodes together (`--max-num-batched-tokens`).
    public var maxNumBatchedTokens: Int
    /// Context length: prompt + output never exceeds it.
    public var maxModelLen: Int
    /// Split long prompts across steps (chunked prefill); off, a prompt waits for a step with
    /// room for all of it.
    public var enableChunkedPrefill: Bool
    /// Requests waiting at most; more are refused (HTTP 429).
    public var maxWaiting: Int

    public init(
        maxNumSeqs: Int = 64, maxNumBatchedTokens: Int = 512, maxModelLen: Int = 2048,
        enableChunkedPrefill: Bool = true, maxWaiting: Int = 1024
    ) {
        self.maxNumSeqs = maxNumSeqs
        self.maxNumBatchedTokens = maxNumBatchedTokens
        self.maxModelLen = maxModelLen
        self.enableChunkedPrefill = enableChunkedPrefill
        self.maxWaiting = maxWaiting
    }
}
