// `/v1/chat/completions` and `/v1/completions`: parse and validate, tokenize, submit to the
// engine, answer whole or as an SSE stream. A client that disconnects aborts its request: the
// non-streaming wait is cancelled when the connection's inbound side closes, and a streaming
// write that fails drops the request stream, which aborts it.

import BatonEngine
import BatonModel
import BatonHTTP
import BatonOpenAI
import Foundation
import HTTPTypes
import Hummingbird

struct Generation: Sendable {
    let host: EngineHost
    let config: ServerConfig

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }()

    enum Kind { case chat, completion }

    /// What both endpoints share once the body is understood.
    struct Prepared: Sendable {
        var responseId: String
        var request: EngineRequest
        var stream: Bool
        var includeUsage: Bool
        var logprobs: Int?
        var kind: Kind
        /// The engine and model the request was tokenized for.
        var loaded: EngineHost.Loaded
    }

    func loaded() throws(APIError) -> EngineHost.Loaded {
        guard let loaded = host.current else { throw .unavailable("The model is still loading.", retryAfter: config.retryAfterSeconds) }
        return loaded
    }

    func checkModel(_ model: String?) throws(APIError) {
        if let model, model != config.servedModelName { throw .modelNotFound(model) }
    }

    func decode<T: Decodable>(_ type: T.Type, _ body: ByteBuffer) throws(APIError) -> T {
        try APIError.decodingBody(T.self, from: Data(buffer: body))
    }

    // MARK: Parsing

    func prepareChat(_ body: ByteBuffer, requestId: String) throws(APIError) -> Prepared {
        let r = try decode(ChatCompletionRequest.self, body)
        try checkModel(r.sampling.model)
        let loaded = try loaded()
        guard !r.messages.isEmpty else { throw .invalid("'messages' must not be empty.", param: "messages") }
        var messages: [ChatMessage] = []
        for (i, m) in r.messages.enumerated() {
            guard ["system", "user", "assistant", "developer"].contains(m.role) else {
                throw .invalid("messages[\(i)].role '\(m.role)' is not supported (system, user, assistant).", param: "messages")
            }
            messages.append(ChatMessage(role: m.role == "developer" ? "system" : m.role, content: m.content?.text ?? ""))
        }
        let template: ChatTemplate
        switch loaded.serving.chatTemplate {
        case .success(let t): template = t
        case .failure(let e): throw .invalid("This model has no usable chat template (\(e)); use /v1/completions.")
        }
        let text = template.render(messages, addGenerationPrompt: r.addGenerationPrompt ?? true)
        let tokens = loaded.serving.tokenizer.encode(text, addSpecial: true, parseSpecial: true)
        if r.logprobs != true, r.topLogprobs != nil, r.topLogprobs! > 0 {
            throw .invalid("top_logprobs needs logprobs=true.", param: "top_logprobs")
        }
        let logprobs = r.logprobs == true ? (r.topLogprobs ?? 0) : nil
        return try prepared(
            r.sampling, kind: .chat, prefix: "chatcmpl", requestId: requestId, tokens: tokens,
            maxTokens: r.maxCompletionTokens ?? r.sampling.maxTokens, logprobs: logprobs, loaded: loaded)
    }

    func prepareCompletion(_ body: ByteBuffer, requestId: String) throws(APIError) -> Prepared {
        let r = try decode(CompletionRequest.self, body)
        try checkModel(r.sampling.model)
        let loaded = try loaded()
        let tokenizer = loaded.serving.tokenizer
        if r.echo == true { throw .invalid("echo is not supported.", param: "echo") }
        let tokens: [Int32]
        var text: String?, ids: [Int]?
        switch r.prompt {
        case .text(let s): text = s
        case .texts(let list) where list.count == 1: text = list[0]
        case .tokens(let list): ids = list
        case .tokenLists(let lists) where lists.count == 1: ids = lists[0]
        case .texts, .tokenLists: throw .invalid("Only one prompt per request is supported.", param: "prompt")
        }
        if let text {
            guard !text.isEmpty else { throw .invalid("'prompt' must not be empty.", param: "prompt") }
            tokens = tokenizer.encode(text, addSpecial: true, parseSpecial: true)
        } else {
            let ids = ids ?? []
            guard !ids.isEmpty else { throw .invalid("'prompt' must not be empty.", param: "prompt") }
            for id in ids where id < 0 || id >= tokenizer.vocabularySize {
                throw .invalid("prompt token \(id) is not a token id (vocabulary of \(tokenizer.vocabularySize)).", param: "prompt")
            }
            tokens = ids.map { Int32($0) }
        }
        return try prepared(
            r.sampling, kind: .completion, prefix: "cmpl", requestId: requestId, tokens: tokens, maxTokens: r.sampling.maxTokens,
            defaultMaxTokens: CompletionRequest.defaultMaxTokens, logprobs: r.logprobs, loaded: loaded)
    }

    private func prepared(
        _ r: SamplingFields, kind: Kind, prefix: String, requestId: String, tokens: [Int32], maxTokens: Int?,
        defaultMaxTokens: Int? = nil, logprobs: Int?, loaded: EngineHost.Loaded
    ) throws(APIError) -> Prepared {
        let params = try r.requestParameters(
            promptTokens: tokens.count, requestedMaxTokens: maxTokens, defaultMaxTokens: defaultMaxTokens, maxModelLen: loaded.maxModelLen,
            vocabularySize: loaded.serving.tokenizer.vocabularySize, endTokenIds: loaded.serving.endTokenIds, logprobs: logprobs)
        let responseId = "\(prefix)-\(requestId)"
        let engineId = "\(responseId)-\(UInt32.random(in: .min ... .max))"
        return Prepared(
            responseId: responseId,
            request: EngineRequest(
                id: engineId, promptTokenIds: tokens, parameters: params, kvTransferParams: r.kvTransferParams,
                stream: r.stream ?? false),
            stream: r.stream ?? false, includeUsage: r.streamOptions?.includeUsage ?? false, logprobs: logprobs, kind: kind,
            loaded: loaded)
    }

    func submit(_ p: Prepared, engine: LLMEngine) throws(APIError) -> RequestStream {
        do {
            return try engine.generate(p.request)
        } catch {
            switch error {
            case .rejected(.queueFull): throw .overloaded("The server is busy: \(error.description).", retryAfter: config.retryAfterSeconds)
            case .rejected(let e): throw .invalid(e.description)
            case .shuttingDown: throw .unavailable("The server is shutting down.", retryAfter: config.retryAfterSeconds)
            case .kvTransferRefused: throw .invalid(error.description, param: "kv_transfer_params")
            case .aborted, .kvLoadFailed: throw .server(error.description)
            }
        }
    }

    // MARK: Answering

    func respond(_ request: Request, context: some RequestContext, kind: Kind) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: config.maxBodyBytes)
        let requestId = request.headers[.requestId] ?? RequestId.make()
        let p = try kind == .chat ? prepareChat(body, requestId: requestId) : prepareCompletion(body, requestId: requestId)
        let stream = try submit(p, engine: p.loaded.engine)
        let format = OutputFormat(
            prepared: p, model: config.servedModelName, tokenizer: p.loaded.serving.tokenizer,
            created: Int(Date().timeIntervalSince1970))
        if p.stream {
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    try await format.writeStream(stream, to: &writer)
                })
        }
        let all: RequestOutput
        do {
            all = try await request.body.consumeWithCancellationOnInboundClose { _ in
                var all = RequestOutput()
                for try await out in stream { all.merge(out) }
                return all
            }
        } catch let error as EngineError {
            throw APIError.server(error.description)
        }
        guard all.finishReason != nil else { throw APIError.server("The request ended without a result.") }
        let data = try format.whole(all)
        // Watching the inbound side for a disconnect consumes it, and Hummingbird then closes
        // the connection after this response: say so, or a keep-alive client would send its
        // next request into a closed socket.
        return Response(
            status: .ok, headers: [.contentType: "application/json", .connection: "close"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
