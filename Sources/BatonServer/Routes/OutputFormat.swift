// Engine outputs as OpenAI bodies: one whole response, or SSE chunks (role first, then text
// deltas, the finish reason, usage when asked, `[DONE]`).

import BatonEngine
import BatonModel
import BatonOpenAI
import Foundation
import HTTPTypes
import Hummingbird

struct OutputFormat: Sendable {
    let prepared: Generation.Prepared
    let model: String
    let tokenizer: Tokenizer
    let created: Int

    private var encoder: JSONEncoder { Generation.encoder }

    func usage(_ o: RequestOutput) -> Usage {
        Usage(promptTokens: o.promptTokens, completionTokens: o.completionTokens, cachedTokens: o.cachedTokens)
    }

    func kvTransferParams(_ o: RequestOutput) -> KVTransferParams? {
        prepared.loaded.engine.handoff.answer(o.held)
    }

    func stopReason(_ o: RequestOutput) -> StopReasonValue? {
        switch o.stopReason {
        case .string(let s): .string(s)
        case .token(let t): .token(Int(t))
        case nil: nil
        }
    }

    func tokenText(_ id: Int32) -> (String, [UInt8]) {
        let bytes = tokenizer.bytes(of: id, special: true)
        return (String(decoding: bytes, as: UTF8.self), bytes)
    }

    func chatLogprobs(_ o: RequestOutput) -> ChatLogprobs? {
        guard prepared.logprobs != nil else { return nil }
        return ChatLogprobs(content: o.logprobs.map { lp in
            let (text, bytes) = tokenText(lp.token)
            return ChatTokenLogprob(
                token: text, logprob: Double(lp.logprob), bytes: bytes,
                topLogprobs: lp.top.map { t in
                    let (tt, tb) = tokenText(t.token)
                    return TopLogprobOut(token: tt, logprob: Double(t.logprob), bytes: tb)
                })
        })
    }

    func completionLogprobs(_ o: RequestOutput, offset: Int) -> CompletionLogprobs? {
        guard prepared.logprobs != nil else { return nil }
        var offsets: [Int] = []
        var at = offset
        var texts: [String] = []
        for lp in o.logprobs {
            let (text, _) = tokenText(lp.token)
            texts.append(text)
            offsets.append(at)
            at += text.utf16.count
        }
        return CompletionLogprobs(
            tokens: texts, tokenLogprobs: o.logprobs.map { Double($0.logprob) },
            topLogprobs: o.logprobs.map { lp in
                Dictionary(lp.top.map { (tokenText($0.token).0, Double($0.logprob)) }, uniquingKeysWith: max)
            },
            textOffset: offsets)
    }

    func whole(_ o: RequestOutput) throws -> Data {
        switch prepared.kind {
        case .chat:
            let choice = ChatChoice(
                index: 0, message: ChatMessageOut(role: "assistant", content: o.text), logprobs: chatLogprobs(o),
                finishReason: o.finishReason?.rawValue, stopReason: stopReason(o))
            return try encoder.encode(ChatCompletion(
                id: prepared.responseId, created: created, model: model, choices: [choice], usage: usage(o),
                kvTransferParams: kvTransferParams(o)))
        case .completion:
            let choice = CompletionChoice(
                index: 0, text: o.text, logprobs: completionLogprobs(o, offset: 0), finishReason: o.finishReason?.rawValue,
                stopReason: stopReason(o))
            return try encoder.encode(Completion(
                id: prepared.responseId, created: created, model: model, choices: [choice], usage: usage(o),
                kvTransferParams: kvTransferParams(o)))
        }
    }

    func chunk(_ o: RequestOutput, first: Bool, offset: Int) throws -> Data {
        switch prepared.kind {
        case .chat:
            let choice = ChatChunkChoice(
                index: 0, delta: ChatMessageOut(role: first ? "assistant" : nil, content: o.text), logprobs: chatLogprobs(o),
                finishReason: o.finishReason?.rawValue, stopReason: stopReason(o))
            return try SSE.event(ChatCompletionChunk(id: prepared.responseId, created: created, model: model, choices: [choice], usage: nil), encoder: encoder)
        case .completion:
            let choice = CompletionChoice(
                index: 0, text: o.text, logprobs: completionLogprobs(o, offset: offset),
                finishReason: o.finishReason?.rawValue, stopReason: stopReason(o))
            return try SSE.event(Completion(id: prepared.responseId, created: created, model: model, choices: [choice], usage: nil), encoder: encoder)
        }
    }

    func usageChunk(_ o: RequestOutput) throws -> Data {
        switch prepared.kind {
        case .chat:
            try SSE.event(ChatCompletionChunk(id: prepared.responseId, created: created, model: model, choices: [], usage: usage(o)), encoder: encoder)
        case .completion:
            try SSE.event(Completion(id: prepared.responseId, created: created, model: model, choices: [], usage: usage(o)), encoder: encoder)
        }
    }

    func writeStream(_ stream: RequestStream, to writer: inout any ResponseBodyWriter) async throws {
        var first = true
        var offset = 0
        var last = RequestOutput()
        do {
            if prepared.kind == .chat {
                // The role comes first, before any token, as OpenAI and vLLM send it.
                try await writer.write(ByteBuffer(bytes: chunk(RequestOutput(), first: true, offset: 0)))
                first = false
            }
            for try await out in stream {
                last = out
                if out.text.isEmpty, out.finishReason == nil, prepared.logprobs == nil { continue }
                try await writer.write(ByteBuffer(bytes: chunk(out, first: first, offset: offset)))
                offset += out.text.utf16.count
                first = false
            }
            if prepared.includeUsage, last.finishReason != nil {
                try await writer.write(ByteBuffer(bytes: usageChunk(last)))
            }
        } catch let error as EngineError {
            let e = APIError.unavailable("The request was aborted: \(error.description).")
            try await writer.write(ByteBuffer(bytes: SSE.event(e.body, encoder: encoder)))
        }
        try await writer.write(ByteBuffer(string: SSE.done))
        try await writer.finish(nil)
    }
}
