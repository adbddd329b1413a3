// `baton status`'s table and `/admin/app`'s JSON, from hand-made states.

import BatonDeploy
import BatonRouter
import Foundation
import Testing

@Suite struct AppStatusTests {
    let app = try! AppStatus.decoder.decode(AppStatus.self, from: Data("""
        {"app": "pd", "model": "smollm2", "uptime_seconds": 42.7,
         "replicas": [
           {"name": "decode-0", "role": "decode", "url": "http://127.0.0.1:9002", "phase": "ready", "pid": 11, "restarts": 1,
            "last_exit": 9, "cpus": [1]},
           {"name": "prefill-0", "role": "prefill", "url": "http://127.0.0.1:9001", "phase": "starting", "pid": 10, "restarts": 0,
            "cpus": [0]}],
         "autoscalers": [
           {"pool": "decode", "current": 1, "desired": 2, "min_replicas": 1, "max_replicas": 3, "target_metric": "ongoing_requests",
            "target": 2, "decisions": [{"at_seconds": 30.4, "from": 1, "to": 2, "average_metric": 4.25}]}]}
        """.utf8))

    @Test func jsonRoundTripsInSnakeCase() throws {
        let data = app.json()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""uptime_seconds":42.7"#) && text.contains(#""last_exit":9"#) && text.contains(#""min_replicas":1"#))
        #expect(try AppStatus.decoder.decode(AppStatus.self, from: data) == app)
    }

    @Test func theTableJoinsReplicasWithTheRoutersView() throws {
        let pools = try JSONDecoder().decode([String: [RouterServer.PoolEntry]].self, from: Data("""
            {"decode":[{"url":"http://127.0.0.1:9002","role":"decode","state":"healthy","in_flight":3,
                        "load":{"waiting":1,"running":2,"kv_cache_usage":0.25},"prefix_index_blocks":7}],
             "prefill":[{"url":"http://127.0.0.1:7777","role":"prefill","state":"ejected","in_flight":0,"prefix_index_blocks":0}]}
            """.utf8))
        let lines = renderStatus(url: "http://127.0.0.1:8000", pools: pools, app: app).split(separator: "\n").map(String.init)
        #expect(lines[0] == "app pd: model smollm2, router http://127.0.0.1:8000, up 42 s")
        #expect(lines[1].hasPrefix("POOL") && lines[1].hasSuffix("URL"))
        let words = lines.map { $0.split(separator: " ").map(String.init) }
        #expect(words[2] == ["decode", "decode-0", "-", "ready", "healthy", "3", "1", "2", "25.0", "1", "11", "http://127.0.0.1:9002"])
        #expect(words[3] == ["prefill", "prefill-0", "-", "starting", "-", "-", "-", "-", "-", "0", "10", "http://127.0.0.1:9001"])
        #expect(words[4] == ["prefill", "-", "-", "-", "ejected", "0", "-", "-", "-", "-", "-", "http://127.0.0.1:7777"], "an endpoint no replica owns")
        #expect(lines[5] == "autoscaler decode: 1 replica(s), desired 2 (1…3, ongoing_requests target 2 per replica); last: 1→2 at 30 s (average 4.25)")
        #expect(renderStatus(url: "u", pools: [:], app: nil).hasPrefix("router u (no app"))
    }
}
