// Turns an OpenAI request's sampling fields into the engine's parameters, refusing what is out
// of range with a 400 that names the field.

import BatonEngine
import BatonModel
import BatonOpenAI

extension SamplingFields {
    /// `defaultMaxTokens` applies when the request gives none (completions: 16), capped at the
    /// room left; without one, the room left is the default (chat).
    func requestParameters(
        promptTokens: Int, requestedMaxTokens: Int?, defaultMaxTokens: Int? = nil, maxModelLen: Int, vocabularySize: Int,
        endTokenIds: Set<Int32>, logprobs: Int?
    ) throws(APIError) -> RequestParameters {
        if let n, n != 1 { throw .invalid("Only n=1 is supported.", param: "n") }
        if let requestedMaxTokens, requestedMaxTokens < 1 {
            throw .invalid("max_tokens must be at least 1, got \(requestedMaxTokens).", param: "max_tokens")
        }
        let room = maxModelLen - promptTokens
        let maxTokens = requestedMaxTokens ?? min(defaultMaxTokens ?? room, room)
        // Compared as room left, not as a sum: a max_tokens near Int.max must not overflow.
        guard maxTokens >= 1, maxTokens <= room else {
            let total = maxTokens > room ? "more than \(maxModelLen)" : "\(promptTokens + maxTokens)"
            throw .invalid(
                "This model's maximum context length is \(maxModelLen) tokens. However, you requested \(total) tokens (\(promptTokens) in the prompt, \(maxTokens) in the completion). Please reduce the length of the prompt or the completion.",
                param: requestedMaxTokens == nil ? "messages" : "max_tokens", code: "context_length_exceeded")
        }
        let temperature = temperature ?? 1
        guard temperature.isFinite, (0...2).contains(temperature) else {
            throw .invalid("temperature must be in [0, 2], got \(temperature).", param: "temperature")
        }
        let topP = topP ?? 1
        guard topP.isFinite, topP > 0, topP <= 1 else { throw .invalid("top_p must be in (0, 1], got \(topP).", param: "top_p") }
        let topK = topK ?? 0
        guard topK >= -1 else { throw .invalid("top_k must be -1 (off), 0 (off) or positive, got \(topK).", param: "top_k") }
        let minP = minP ?? 0
        guard minP.isFinite, (0...1).contains(minP) else { throw .invalid("min_p must be in [0, 1], got \(minP).", param: "min_p") }
        let presence = presencePenalty ?? 0, frequency = frequencyPenalty ?? 0
        guard presence.isFinite, (-2...2).contains(presence) else {
            throw .invalid("presence_penalty must be in [-2, 2], got \(presence).", param: "presence_penalty")
        }
        guard frequency.isFinite, (-2...2).contains(frequency) else {
            throw .invalid("frequency_penalty must be in [-2, 2], got \(frequency).", param: "frequency_penalty")
        }
        let repetition = repetitionPenalty ?? 1
        guard repetition.isFinite, repetition > 0, repetition <= 10 else {
            throw .invalid("repetition_penalty must be in (0, 10], got \(repetition).", param: "repetition_penalty")
        }
        let stops = stop?.values ?? []
        guard stops.count <= 16 else { throw .invalid("At most 16 stop strings, got \(stops.count).", param: "stop") }
        guard stops.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 256 }) else {
            throw .invalid("Stop strings must be 1 to 256 bytes long.", param: "stop")
        }
        var stopIds = Set<Int32>()
        for id in stopTokenIds ?? [] {
            guard id >= 0, id < vocabularySize else {
                throw .invalid("stop_token_ids: \(id) is not a token id (vocabulary of \(vocabularySize)).", param: "stop_token_ids")
            }
            stopIds.insert(Int32(id))
        }
        if ignoreEOS != true { stopIds.formUnion(endTokenIds) }
        if let logprobs, !(0...20).contains(logprobs) {
            throw .invalid("logprobs/top_logprobs must be in [0, 20], got \(logprobs).", param: "top_logprobs")
        }
        if let cacheSalt, cacheSalt.isEmpty { throw .invalid("cache_salt must not be empty.", param: "cache_salt") }
        let sampling = SamplingParameters(
            temperature: temperature < 1e-5 ? 0 : Float(temperature), topK: max(0, topK), topP: Float(topP), minP: Float(minP),
            repetitionPenalty: Float(repetition), presencePenalty: Float(presence), frequencyPenalty: Float(frequency),
            seed: seed.map { UInt64(bitPattern: Int64($0)) })
        return RequestParameters(
            maxTokens: maxTokens, sampling: sampling, stopTokenIds: stopIds, stopStrings: stops, logprobs: logprobs,
            cacheSalt: cacheSalt)
    }
}
