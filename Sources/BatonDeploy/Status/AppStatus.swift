// What `baton status` shows, like Ray's `serve status`: the app, each replica (its process and
// its state in the router), and each autoscaled pool's last decisions. The supervisor serves it
// as JSON at the router's `/admin/app`; `baton status` joins it with `/admin/pools` and prints
// a table (or the JSON with --json).

import AsyncHTTPClient
import BatonRouter
import Foundation
import NIOCore

public struct AppStatus: Codable, Sendable, Equatable {
    public var app: String
    public var model: String
    public var uptimeSeconds: Double
    public var replicas: [Replica]
    public var autoscalers: [Autoscaler]

    public struct Replica: Codable, Sendable, Equatable {
        public var name: String
        public var role: String
        public var url: String
        /// starting, ready, restarting, draining, stopping, stopped.
        public var phase: String
        public var pid: Int32?
        public var restarts: Int
        public var lastExit: Int32?
        public var cpus: [Int]
        /// Its xPyD group in replica mode.
        public var group: Int?
    }

    public struct Autoscaler: Codable, Sendable, Equatable {
        public var pool: String
        public var current: Int
        public var desired: Int
        public var minReplicas: Int
        public var maxReplicas: Int
        public var targetMetric: String
        public var target: Double
        public var decisions: [Decision]
    }

    public struct Decision: Codable, Sendable, Equatable {
        /// Seconds after the app started.
        public var atSeconds: Double
        public var from: Int
        public var to: Int
        public var averageMetric: Double
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    public static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }()

    public func json() -> Data { (try? Self.encoder.encode(self)) ?? Data("{}".utf8) }
}

extension Supervisor {
    /// The app's status now.
    public func status() -> AppStatus {
        state.withLock { s in
            AppStatus(
                app: app.name, model: app.model.modelID, uptimeSeconds: (ContinuousClock.now - started).seconds,
                replicas: s.replicas.values.sorted { $0.spec.name < $1.spec.name }.map {
                    AppStatus.Replica(
                        name: $0.spec.name, role: $0.spec.role.rawValue, url: $0.spec.url, phase: $0.phase.rawValue, pid: $0.pid,
                        restarts: $0.restarts, lastExit: $0.lastExit, cpus: $0.spec.cpus, group: $0.spec.group)
                },
                autoscalers: s.autoscalers.sorted { $0.key.rawValue < $1.key.rawValue }.map { role, a in
                    AppStatus.Autoscaler(
                        pool: role.rawValue, current: a.current, desired: a.desired, minReplicas: a.policy.minReplicas,
                        maxReplicas: a.policy.maxReplicas, targetMetric: a.policy.targetMetric.rawValue, target: a.policy.target,
                        decisions: a.decisions.map {
                            AppStatus.Decision(atSeconds: $0.at.seconds, from: $0.from, to: $0.to, averageMetric: $0.averageMetric)
                        })
                })
        }
    }
}

/// `baton status`'s table: one line per replica with the router's view of it, then the
/// autoscalers. `pools` is `/admin/pools`; `app` is `/admin/app` (nil for a bare `baton router`).
public func renderStatus(url: String, pools: [String: [RouterServer.PoolEntry]], app: AppStatus?) -> String {
    var lines: [String] = []
    let endpoints = (pools["prefill"] ?? []) + (pools["decode"] ?? [])
    if let app {
        lines.append("app \(app.app): model \(app.model), router \(url), up \(Int(app.uptimeSeconds)) s")
    } else {
        lines.append("router \(url) (no app: started by `baton router`)")
    }
    var rows = [["POOL", "REPLICA", "GROUP", "PHASE", "ROUTER", "IN-FLIGHT", "WAITING", "RUNNING", "KV%", "RESTARTS", "PID", "URL"]]
    var listed = Set<String>()
    for r in app?.replicas ?? [] {
        let e = endpoints.first { $0.url == r.url }
        listed.insert(r.url)
        rows.append([
            r.role, r.name, r.group.map(String.init) ?? "-", r.phase, e?.state ?? "-", e.map { String($0.inFlight) } ?? "-",
            e?.load.map { String($0.waiting) } ?? "-", e?.load.map { String($0.running) } ?? "-",
            e?.load.map { String(format: "%.1f", $0.kvCacheUsage * 100) } ?? "-",
            String(r.restarts), r.pid.map(String.init) ?? "-", r.url,
        ])
    }
    for e in endpoints where !listed.contains(e.url) {
        rows.append([
            e.role, "-", e.group.map(String.init) ?? "-", "-", e.state, String(e.inFlight), e.load.map { String($0.waiting) } ?? "-",
            e.load.map { String($0.running) } ?? "-", e.load.map { String(format: "%.1f", $0.kvCacheUsage * 100) } ?? "-",
            "-", "-", e.url,
        ])
    }
    let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
    for row in rows {
        lines.append(row.indices.map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
    }
    for a in app?.autoscalers ?? [] {
        var line = "autoscaler \(a.pool): \(a.current) replica(s), desired \(a.desired) (\(a.minReplicas)…\(a.maxReplicas), "
            + "\(a.targetMetric) target \(formatNumber(a.target)) per replica)"
        if a.decisions.isEmpty {
            line += "; no scaling yet"
        } else {
            line += "; last: " + a.decisions.suffix(3).map {
                "\($0.from)→\($0.to) at \(Int($0.atSeconds)) s (average \(formatNumber(($0.averageMetric * 100).rounded() / 100)))"
            }.joined(separator: ", ")
        }
        lines.append(line)
    }
    return lines.joined(separator: "\n")
}
