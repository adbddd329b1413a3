// Reads `/admin/pools` and `/admin/app` from a router for `baton status`.

import AsyncHTTPClient
import BatonRouter
import Foundation
import NIOCore

/// Reads `/admin/pools` and `/admin/app` from a router (`baton status`).
public enum StatusClient {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func fetch(url: String, apiKey: String?) async throws -> (pools: [String: [RouterServer.PoolEntry]], app: AppStatus?) {
        let (status, body) = try await get(url + "/admin/pools", apiKey: apiKey)
        guard status == 200 else { throw Failure(description: "\(url)/admin/pools answered \(status): \(String(decoding: body, as: UTF8.self))") }
        let pools: [String: [RouterServer.PoolEntry]]
        do {
            pools = try JSONDecoder().decode([String: [RouterServer.PoolEntry]].self, from: body)
        } catch {
            throw Failure(description: "\(url)/admin/pools is not a Baton router's answer: \(error)")
        }
        let (appCode, appBody) = try await get(url + "/admin/app", apiKey: apiKey)
        guard appCode == 200 else { return (pools, nil) }
        return (pools, try? AppStatus.decoder.decode(AppStatus.self, from: appBody))
    }

    static func get(_ url: String, apiKey: String?) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url)
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 16 << 20)
            return (Int(response.status.code), Data(body.readableBytesView))
        } catch {
            throw Failure(description: "cannot reach \(url): \(error)")
        }
    }
}
