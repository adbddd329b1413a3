// The autoscaler with a fake clock (plain `Duration`s): delays, factors, min/max clamps, 0
// replicas, drain before stop, target metrics, and DP's refusal of autoscaling at config level.

@testable import BatonDeploy
import Foundation
import Testing

/// A policy with Ray's defaults except what a test sets.
private func policy(min: Int = 1, max: Int = 10, initial: Int? = nil, target: Double = 2,
                    up: Int = 30, down: Int = 600, lookBack: Int = 30,
                    upFactor: Double = 1, downFactor: Double = 1,
                    metric: TargetMetric = .ongoingRequests) -> AutoscalingConfig {
    var a = AutoscalingConfig()
    a.minReplicas = min
    a.maxReplicas = max
    a.initialReplicas = initial
    a.target = target
    a.upscaleDelay = .seconds(up)
    a.downscaleDelay = .seconds(down)
    a.lookBackPeriod = .seconds(lookBack)
    a.upscalingFactor = upFactor
    a.downscalingFactor = downFactor
    a.targetMetric = metric
    return a
}

/// An autoscaler with `n` running replicas r0…r(n-1).
private func running(_ p: AutoscalingConfig, _ n: Int) -> PoolAutoscaler {
    var s = PoolAutoscaler(policy: p)
    for i in 0..<n { s.replicaAdded("r\(i)") }
    return s
}

/// Spreads `total` requests in flight over the running replicas.
private func loads(_ s: PoolAutoscaler, total: Int) -> [String: ReplicaLoad] {
    let names = s.replicas.filter { $0.value == .running }.map(\.key).sorted()
    var out: [String: ReplicaLoad] = [:]
    for (i, name) in names.enumerated() {
        out[name] = ReplicaLoad(inFlight: total / names.count + (i < total % names.count ? 1 : 0))
    }
    return out
}

/// Observes `total` in flight and ticks once per second over [from, to); returns every action.
private func run(_ s: inout PoolAutoscaler, total: Int, from: Int, to: Int) -> [AutoscalerAction] {
    var actions: [AutoscalerAction] = []
    for t in from..<to {
        s.observe(at: .seconds(t), loads: loads(s, total: total))
        actions += s.tick(at: .seconds(t))
    }
    return actions
}

@Suite struct PoolAutoscalerTests {
    @Test func startsInitialReplicasThenMin() {
        var a = PoolAutoscaler(policy: policy(min: 2, max: 4, initial: 3))
        #expect(a.start() == [.start(count: 3)])
        #expect(a.current == 3 && a.pendingStarts == 3)
        a.replicaAdded("r0")
        #expect(a.current == 3 && a.pendingStarts == 2)
        var b = PoolAutoscaler(policy: policy(min: 2, max: 4))
        #expect(b.start() == [.start(count: 2)])
    }

    @Test func spikeShorterThanUpscaleDelayDoesNothing() {
        var a = running(policy(up: 30, lookBack: 5), 1)
        // 10 s at 8 in flight (raw 4), then calm: the up decision held only ~14 s.
        #expect(run(&a, total: 8, from: 0, to: 10).isEmpty)
        #expect(run(&a, total: 1, from: 10, to: 60).isEmpty)
        #expect(a.current == 1 && a.decisions.isEmpty)
    }

    @Test func sustainedLoadScalesUpExactlyAtTheDelay() {
        var a = running(policy(up: 30, lookBack: 5), 1)
        #expect(run(&a, total: 8, from: 0, to: 30).isEmpty)
        // Held since t=0; at t=30 the latest desired (8 ÷ 2 = 4) is applied.
        #expect(run(&a, total: 8, from: 30, to: 31) == [.start(count: 3)])
        #expect(a.current == 4 && a.decisions == [AutoscalerDecision(at: .seconds(30), from: 1, to: 4, averageMetric: 8)])
        // Nothing more while the starts are pending: they count toward current.
        #expect(run(&a, total: 8, from: 31, to: 90).isEmpty)
    }

    @Test func averagesOverTheLookBackWindow() {
        var a = running(policy(up: 0, lookBack: 10), 1)
        // Five samples of 0 then one of 12 within 10 s: average 2 = target × 1, no change.
        for t in 0..<5 { a.observe(at: .seconds(t), loads: ["r0": ReplicaLoad(inFlight: 0)]) }
        a.observe(at: .seconds(5), loads: ["r0": ReplicaLoad(inFlight: 12)])
        #expect(a.tick(at: .seconds(5)).isEmpty)
        // At t=12 the zeros from t<2 have left the window: (0,0,0,12) → 3 → raw 1.5 → 2.
        #expect(a.tick(at: .seconds(12)) == [.start(count: 1)])
    }

    @Test func upscalingFactorSmoothsTheStep() {
        var a = running(policy(max: 20, up: 0, upFactor: 0.5), 2)
        // raw = 20 ÷ 2 = 10; 2 + 0.5 × (10 − 2) = 6.
        #expect(run(&a, total: 20, from: 0, to: 1) == [.start(count: 4)])
        var b = running(policy(max: 20, up: 0, upFactor: 0.3), 2)
        // 2 + 0.3 × 8 = 4.4 → 5 (ceil).
        #expect(run(&b, total: 20, from: 0, to: 1) == [.start(count: 3)])
    }

    @Test func downscalingFactorSmoothsTheStep() {
        var a = running(policy(max: 10, down: 0, downFactor: 0.5), 8)
        // raw = 4 ÷ 2 = 2; 8 + 0.5 × (2 − 8) = 5: three drained.
        let actions = run(&a, total: 4, from: 0, to: 1)
        #expect(actions.count == 3 && actions.allSatisfy { if case .drain = $0 { true } else { false } })
        #expect(a.current == 5)
    }

    @Test func clampsToMinAndMax() {
        var a = running(policy(min: 1, max: 3, up: 0), 1)
        #expect(run(&a, total: 100, from: 0, to: 1) == [.start(count: 2)])
        var b = running(policy(min: 2, max: 5, down: 0), 5)
        _ = run(&b, total: 0, from: 0, to: 1)
        #expect(b.current == 2 && b.draining.count == 3)
        // At max or min, nothing more happens.
        #expect(run(&a, total: 100, from: 1, to: 100).isEmpty)
        #expect(run(&b, total: 0, from: 1, to: 100).isEmpty)
    }

    @Test func downscaleWaitsForItsDelayAndADipDoesNothing() {
        var a = running(policy(up: 0, down: 600, lookBack: 5), 3)
        _ = run(&a, total: 6, from: 0, to: 10)
        // A 100 s dip is shorter than downscale_delay_s.
        #expect(run(&a, total: 0, from: 10, to: 110).isEmpty)
        #expect(run(&a, total: 6, from: 110, to: 200).isEmpty)
        // A long quiet period: applied 600 s after the decision began (t=200 + 5 s look-back lag).
        let actions = run(&a, total: 0, from: 200, to: 900)
        #expect(actions.count == 2)
        #expect(a.decisions.last?.at == .seconds(801))
    }

    @Test func zeroReplicasScaleUpOnPendingDemandAndBackToZero() {
        var a = PoolAutoscaler(policy: policy(min: 0, max: 2, up: 0, down: 10, lookBack: 5))
        #expect(a.start().isEmpty)
        #expect(a.current == 0)
        // No replica, no load: stays at 0.
        a.observe(at: .seconds(0), loads: [:])
        #expect(a.tick(at: .seconds(0)).isEmpty)
        // Requests that took the local path count as pending demand: one replica.
        a.observe(at: .seconds(1), loads: [:], pending: 1)
        #expect(a.tick(at: .seconds(1)) == [.start(count: 1)])
        a.replicaAdded("p0")
        // Quiet: after the window empties of demand and downscale_delay_s, drained to 0.
        var actions: [AutoscalerAction] = []
        for t in 2..<40 {
            a.observe(at: .seconds(t), loads: ["p0": ReplicaLoad(inFlight: 0)])
            actions += a.tick(at: .seconds(t))
        }
        #expect(actions == [.drain(replica: "p0")])
        #expect(a.current == 0)
        #expect(a.drained("p0") == [.stop(replica: "p0")])
    }

    @Test func drainsTheReplicaWithFewestInFlightAndStopsOnlyAfterDrained() {
        var a = running(policy(down: 0), 3)
        a.observe(at: .seconds(0), loads: ["r0": ReplicaLoad(inFlight: 1), "r1": ReplicaLoad(inFlight: 0),
                                           "r2": ReplicaLoad(inFlight: 1)])
        // 2 in flight ÷ 2 = 1 replica: r1 (0 in flight), then r2 (tie with r0, sorts last).
        #expect(a.tick(at: .seconds(0)) == [.drain(replica: "r1"), .drain(replica: "r2")])
        #expect(a.draining == ["r1", "r2"])
        // No stop until drained; ticks in between do nothing more.
        #expect(a.tick(at: .seconds(1)).isEmpty)
        #expect(a.drained("r2") == [.stop(replica: "r2")])
        #expect(a.drained("r2").isEmpty)
        #expect(a.drained("r0").isEmpty) // not draining: never stopped
        #expect(a.draining == ["r1"])
        #expect(a.drained("r1") == [.stop(replica: "r1")])
        #expect(a.current == 1)
    }

    @Test func drainingReplicasDoNotCountTowardLoad() {
        var a = running(policy(up: 0, down: 0), 2)
        a.observe(at: .seconds(0), loads: ["r0": ReplicaLoad(inFlight: 0), "r1": ReplicaLoad(inFlight: 0)])
        #expect(a.tick(at: .seconds(0)) == [.drain(replica: "r1")])
        // r1 still finishing 10 requests: not load on the pool of one.
        a.observe(at: .seconds(40), loads: ["r0": ReplicaLoad(inFlight: 2), "r1": ReplicaLoad(inFlight: 10)])
        #expect(a.tick(at: .seconds(40)).isEmpty)
    }

    @Test func queuedPromptTokensMetric() {
        var a = running(policy(max: 4, up: 0, metric: .queuedPromptTokens).with(target: 1000), 1)
        a.observe(at: .seconds(0), loads: ["r0": ReplicaLoad(inFlight: 1, queuedPromptTokens: 3500)])
        #expect(a.tick(at: .seconds(0)) == [.start(count: 3)])
    }

    @Test func kvCacheUsageMetric() {
        var a = running(policy(max: 4, up: 0, down: 0, metric: .kvCacheUsage).with(target: 0.5), 2)
        a.observe(at: .seconds(0), loads: ["r0": ReplicaLoad(inFlight: 9, kvCacheUsage: 0.9),
                                           "r1": ReplicaLoad(inFlight: 9, kvCacheUsage: 0.8)])
        // 1.7 ÷ 0.5 = 3.4 → 4 replicas.
        #expect(a.tick(at: .seconds(0)) == [.start(count: 2)])
    }

    @Test func noSamplesNoDecision() {
        var a = running(policy(up: 0, down: 0, lookBack: 5), 3)
        a.observe(at: .seconds(0), loads: loads(a, total: 0))
        // The only sample left the window: hold rather than guess.
        #expect(a.tick(at: .seconds(10)).isEmpty)
        #expect(a.current == 3)
    }

    @Test func fixedReplicasHaveNoAutoscaler() {
        #expect(PoolAutoscaler(scaling: .fixed(2)) == nil)
        #expect(PoolAutoscaler(scaling: .autoscaled(policy())) != nil)
    }

    @Test func dataParallelRefusesAutoscalingAtConfigLevel() throws {
        let yaml = """
            applications:
              - import_path: ray.serve.llm:build_pd_openai_app
                args:
                  prefill_config:
                    model_loading_config: {model_id: m}
                  decode_config:
                    model_loading_config: {model_id: m}
                    engine_kwargs: {data_parallel_size: 3}
                    deployment_config:
                      autoscaling_config: {min_replicas: 1, max_replicas: 4}
            """
        #expect(throws: ConfigError(
            path: "applications[0].args.decode_config.deployment_config.autoscaling_config",
            message: "not supported with engine_kwargs.data_parallel_size 3: data parallel replicas are fixed (as in Ray Serve)"
        )) { try AppConfig.load(yaml: yaml) }
        let fixed = try AppConfig.load(yaml: yaml.replacingOccurrences(
            of: "autoscaling_config: {min_replicas: 1, max_replicas: 4}", with: "num_replicas: 3"))
        let scaling = try #require(fixed.application.pool(.decode)?.llm.scaling)
        #expect(scaling == .fixed(3) && PoolAutoscaler(scaling: scaling) == nil)
    }
}

extension AutoscalingConfig {
    fileprivate func with(target: Double) -> AutoscalingConfig {
        var a = self
        a.target = target
        return a
    }
}
