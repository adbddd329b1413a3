// `baton status`: the app's pools, replicas, their load and the autoscalers' last decisions,
// read from a router's `/admin/pools` and `/admin/app` (like Ray's `serve status`).

import ArgumentParser
import BatonDeploy
import BatonRouter
import Foundation

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the pools, replicas, load and autoscaler decisions of a running app.")

    @Option(help: "The router (baton serve or baton router).") var url = "http://127.0.0.1:8000"
    @Option(help: "The router's API key (default: $BATON_API_KEY).") var apiKey: String?
    @Flag(help: "Print {\"pools\": …, \"app\": …} as JSON.") var json = false

    func run() async throws {
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        let key = apiKey ?? ProcessInfo.processInfo.environment["BATON_API_KEY"]
        let status: (pools: [String: [RouterServer.PoolEntry]], app: AppStatus?)
        do {
            status = try await StatusClient.fetch(url: base, apiKey: key)
        } catch {
            throw ValidationError("\(error)")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let pools = try JSONSerialization.jsonObject(with: try encoder.encode(status.pools))
            let app = try status.app.map { try JSONSerialization.jsonObject(with: $0.json()) } ?? NSNull()
            let data = try JSONSerialization.data(withJSONObject: ["pools": pools, "app": app], options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(renderStatus(url: base, pools: status.pools, app: status.app))
        }
    }
}
