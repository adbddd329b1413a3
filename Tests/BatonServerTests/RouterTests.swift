// The router without a socket or a model (HummingbirdTesting): before the model is loaded,
// health and the API answer 503 with Retry-After, while malformed input is still a 400.

import BatonOpenAI
import BatonServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing

@Suite struct RouterTests {
    func app(apiKey: String? = nil) -> some ApplicationProtocol {
        let config = ServerConfig(servedModelName: "smollm2", apiKey: apiKey)
        return Application(router: EngineServer.router(host: EngineHost(), config: config, registry: PrometheusCollectorRegistry()))
    }

    @Test func unloadedEngineAnswers503WithRetryAfter() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "1")
            }
            let body = ByteBuffer(string: #"{"messages":[{"role":"user","content":"hi"}]}"#)
            try await client.execute(uri: "/v1/chat/completions", method: .post, body: body) { response in
                #expect(response.status == .serviceUnavailable)
                let error = try JSONDecoder().decode(APIError.Body.self, from: Data(buffer: response.body))
                #expect(error.error.message.contains("loading"))
            }
            try await client.execute(uri: "/v1/chat/completions", method: .post, body: ByteBuffer(string: "[1,")) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func apiKeyGuardsTheAPIButNotHealthOrMetrics() async throws {
        try await app(apiKey: "secret").test(.router) { client in
            try await client.execute(uri: "/v1/models", method: .get) { response in
                #expect(response.status == .unauthorized)
                let error = try JSONDecoder().decode(APIError.Body.self, from: Data(buffer: response.body))
                #expect(error.error.type == "authentication_error")
                #expect(response.headers[HTTPField.Name("X-Request-Id")!] != nil)
            }
            try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer secret"]) { response in
                #expect(response.status == .serviceUnavailable, "past the key; the model is not loaded")
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
