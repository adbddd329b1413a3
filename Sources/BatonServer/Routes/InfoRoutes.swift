// The small routes: `/v1/models`, `/tokenize` and `/detokenize` (vLLM's shapes), `/health`
// (503 until the model is loaded), `/metrics` (Prometheus text), `/version`.

import BatonModel
import BatonHTTP
import BatonOpenAI
import Foundation
import Hummingbird
import Prometheus

struct InfoRoutes: Sendable {
    let generation: Generation
    let registry: PrometheusCollectorRegistry

    func json(_ value: some Encodable) throws -> Response {
        let data = try Generation.encoder.encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func models() throws -> Response {
        let loaded = try generation.loaded()
        let card = ModelCard(
            id: generation.config.servedModelName, created: generation.host.created, root: loaded.serving.path,
            maxModelLen: loaded.maxModelLen)
        return try json(ModelList(data: [card]))
    }

    func tokenize(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: generation.config.maxBodyBytes)
        let r = try generation.decode(TokenizeRequest.self, body)
        try generation.checkModel(r.model)
        let loaded = try generation.loaded()
        let tokenizer = loaded.serving.tokenizer
        let ids: [Int32]
        if let messages = r.messages {
            guard r.prompt == nil else { throw APIError.invalid("Give either 'prompt' or 'messages', not both.") }
            let template = try loaded.serving.chatTemplate.get()
            let text = template.render(
                messages.map { ChatMessage(role: $0.role, content: $0.content?.text ?? "") },
                addGenerationPrompt: r.addGenerationPrompt ?? true)
            ids = tokenizer.encode(text, addSpecial: r.addSpecialTokens ?? false, parseSpecial: true)
        } else if let prompt = r.prompt {
            ids = tokenizer.encode(prompt, addSpecial: r.addSpecialTokens ?? true, parseSpecial: true)
        } else {
            throw APIError.invalid("'prompt' or 'messages' is required.", param: "prompt")
        }
        let strs = r.returnTokenStrs == true ? ids.map { String(decoding: tokenizer.bytes(of: $0, special: true), as: UTF8.self) } : nil
        return try json(TokenizeResponse(count: ids.count, maxModelLen: loaded.maxModelLen, tokens: ids.map(Int.init), tokenStrs: strs))
    }

    func detokenize(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: generation.config.maxBodyBytes)
        let r = try generation.decode(DetokenizeRequest.self, body)
        try generation.checkModel(r.model)
        let tokenizer = try generation.loaded().serving.tokenizer
        for id in r.tokens where id < 0 || id >= tokenizer.vocabularySize {
            throw APIError.invalid("\(id) is not a token id (vocabulary of \(tokenizer.vocabularySize)).", param: "tokens")
        }
        return try json(DetokenizeResponse(prompt: tokenizer.decode(r.tokens.map { Int32($0) }, special: true)))
    }

    func health() -> Response {
        guard generation.host.current != nil else {
            return APIError.unavailable("The model is still loading.").response()
        }
        return Response(status: .ok)
    }

    func metrics() -> Response {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}
