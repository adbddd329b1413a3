// Reads `deployment_config` and its `autoscaling_config`, applying Ray Serve's defaults and
// validation (min ≤ initial ≤ max, positive targets and factors).

extension DeploymentConfig {
    static let ignoredKeys: [String: String] = [
        "ray_actor_options": "no Ray actors; each replica is a process",
        "graceful_shutdown_wait_loop_s": "draining is watched continuously",
        "user_config": "not supported",
        "max_queued_requests": "the router queues nothing: overloaded replicas give 429",
        "name": "pools are named by role",
        "request_router_config": "the router is Baton's",
        "logging_config": "engine logs go to stderr, prefixed by replica",
    ]

    static func load(_ cursor: YAMLCursor) throws -> DeploymentConfig {
        let map = try cursor.mapping()
        var d = DeploymentConfig()
        var autoFromNumReplicas = false
        if let v = map.take("num_replicas") {
            if case .scalar(let s) = v.node, s.string == "auto" {
                autoFromNumReplicas = true
            } else {
                d.numReplicas = try v.int(atLeast: 0)
            }
        }
        if let v = map.take("max_ongoing_requests") { d.maxOngoingRequests = try v.int(atLeast: 1) }
        if let v = map.take("autoscaling_config") {
            if autoFromNumReplicas {
                throw ConfigError(path: cursor.child("num_replicas"), message: "\"auto\" is not allowed with autoscaling_config")
            }
            d.autoscaling = try AutoscalingConfig.load(v)
        } else if autoFromNumReplicas {
            // Ray Serve's `num_replicas: auto`: autoscaling from 1 to 100 replicas.
            var a = AutoscalingConfig()
            a.maxReplicas = 100
            d.autoscaling = a
        }
        if let v = map.take("health_check_period_s") { d.healthCheckPeriod = try v.seconds(atLeast: 0.1) }
        if let v = map.take("health_check_timeout_s") { d.healthCheckTimeout = try v.seconds(atLeast: 0.1) }
        if let v = map.take("graceful_shutdown_timeout_s") { d.gracefulShutdownTimeout = try v.seconds() }
        map.finish(reasons: ignoredKeys)
        return d
    }
}

extension AutoscalingConfig {
    static let ignoredKeys: [String: String] = [
        "metrics_interval_s": "the router reports load every health scrape",
        "downscale_to_zero_delay_s": "downscale_delay_s applies to every step",
        "aggregation_function": "the look-back window is averaged",
        "policy": "Baton's autoscaler is built in",
        "smoothing_factor": "use upscaling_factor and downscaling_factor",
        "upscale_smoothing_factor": "use upscaling_factor",
        "downscale_smoothing_factor": "use downscaling_factor",
    ]

    static func load(_ cursor: YAMLCursor) throws -> AutoscalingConfig {
        let map = try cursor.mapping()
        var a = AutoscalingConfig()
        if let v = map.take("min_replicas") { a.minReplicas = try v.int(atLeast: 0) }
        if let v = map.take("max_replicas") {
            a.maxReplicas = try v.int(atLeast: 1)
            guard a.maxReplicas >= a.minReplicas else {
                throw v.fail("must be ≥ min_replicas \(a.minReplicas) (got \(a.maxReplicas))")
            }
        } else {
            // Ray's default max is 1; a min above it means "at least that many".
            a.maxReplicas = max(a.maxReplicas, a.minReplicas)
        }
        if let v = map.take("initial_replicas") {
            let n = try v.int(atLeast: 0)
            guard (a.minReplicas...a.maxReplicas).contains(n) else {
                throw v.fail("must be within min_replicas…max_replicas (\(a.minReplicas)…\(a.maxReplicas), got \(n))")
            }
            a.initialReplicas = n
        }
        if let v = map.take("target_metric") {
            a.targetMetric = try v.oneOf(TargetMetric.self)
        }
        let ongoing = map.take("target_ongoing_requests")
        let value = map.take("target_value")
        switch a.targetMetric {
        case .ongoingRequests:
            if let value { throw value.fail("use target_ongoing_requests with target_metric ongoing_requests") }
            if let ongoing { a.target = try ongoing.double(greaterThan: 0) }
        case .queuedPromptTokens, .kvCacheUsage:
            if let ongoing {
                cursor.ignored.add(ongoing.path, "target_metric is \(a.targetMetric.rawValue); its target is target_value")
            }
            a.target = try value?.double(greaterThan: 0) ?? a.targetMetric.defaultTarget
            if a.targetMetric == .kvCacheUsage, a.target > 1, let value {
                throw value.fail("kv_cache_usage is a fraction: must be ≤ 1 (got \(formatNumber(a.target)))")
            }
        }
        if let v = map.take("upscale_delay_s") { a.upscaleDelay = try v.seconds() }
        if let v = map.take("downscale_delay_s") { a.downscaleDelay = try v.seconds() }
        if let v = map.take("upscaling_factor") { a.upscalingFactor = try v.double(greaterThan: 0) }
        if let v = map.take("downscaling_factor") { a.downscalingFactor = try v.double(greaterThan: 0) }
        if let v = map.take("look_back_period_s") { a.lookBackPeriod = try v.seconds(atLeast: 0.001) }
        map.finish(reasons: ignoredKeys)
        return a
    }
}
