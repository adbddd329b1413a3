// A table of bad configs, each giving its exact error with the key's path.

import BatonDeploy
import Testing

/// A PD app whose prefill and decode configs get `prefill`/`decode` lines appended (written at
/// the config's own indentation), `args` lines beside them, and `tail` lines at the top level.
private func pdApp(prefill: String = "", decode: String = "", args: String = "", tail: String = "",
                   decodeModel: String = "m") -> String {
    func indent(_ text: String, _ n: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : String(repeating: " ", count: n) + $0 }.joined(separator: "\n")
    }
    return """
        applications:
          - name: pd
            import_path: ray.serve.llm:build_pd_openai_app
            args:
              prefill_config:
                model_loading_config: {model_id: m, model_source: smollm2}
        \(indent(prefill, 8))
              decode_config:
                model_loading_config: {model_id: \(decodeModel), model_source: smollm2}
        \(indent(decode, 8))
        \(indent(args, 6))
        \(tail)
        """
}

private let p = "applications[0].args.prefill_config"
private let d = "applications[0].args.decode_config"

private let badConfigs: [(String, String)] = [
    (pdApp(decode: "deployment_config:\n  autoscaling_config: {min_replicas: 1, max_replicas: many}"),
     "\(d).deployment_config.autoscaling_config.max_replicas: expected an integer"),
    (pdApp(decode: "deployment_config:\n  autoscaling_config: {min_replicas: 1, max_replicas: 2.5}"),
     "\(d).deployment_config.autoscaling_config.max_replicas: expected an integer"),
    (pdApp(prefill: "deployment_config:\n  autoscaling_config: {min_replicas: -1}"),
     "\(p).deployment_config.autoscaling_config.min_replicas: must be ≥ 0 (got -1)"),
    (pdApp(decode: "deployment_config:\n  autoscaling_config: {min_replicas: 3, max_replicas: 2}"),
     "\(d).deployment_config.autoscaling_config.max_replicas: must be ≥ min_replicas 3 (got 2)"),
    (pdApp(decode: "deployment_config:\n  autoscaling_config: {min_replicas: 1, max_replicas: 2, initial_replicas: 5}"),
     "\(d).deployment_config.autoscaling_config.initial_replicas: must be within min_replicas…max_replicas (1…2, got 5)"),
    (pdApp(decode: "deployment_config:\n  autoscaling_config: {target_ongoing_requests: 0}"),
     "\(d).deployment_config.autoscaling_config.target_ongoing_requests: must be > 0 (got 0)"),
    (pdApp(prefill: "deployment_config:\n  autoscaling_config: {upscale_delay_s: -5}"),
     "\(p).deployment_config.autoscaling_config.upscale_delay_s: must be ≥ 0 seconds (got -5)"),
    (pdApp(prefill: "deployment_config:\n  autoscaling_config: {downscale_delay_s: 1e20}"),
     "\(p).deployment_config.autoscaling_config.downscale_delay_s: must be at most a year in seconds (got 1e+20)"),
    (pdApp(prefill: "deployment_config:\n  autoscaling_config: {upscaling_factor: fast}"),
     "\(p).deployment_config.autoscaling_config.upscaling_factor: expected a number"),
    (pdApp(prefill: "deployment_config:\n  autoscaling_config: {target_metric: tokens}"),
     "\(p).deployment_config.autoscaling_config.target_metric: expected one of ongoing_requests, queued_prompt_tokens, kv_cache_usage (got 'tokens')"),
    (pdApp(decode: "deployment_config:\n  autoscaling_config: {target_metric: kv_cache_usage, target_value: 5}"),
     "\(d).deployment_config.autoscaling_config.target_value: kv_cache_usage is a fraction: must be ≤ 1 (got 5)"),
    (pdApp(decode: "deployment_config:\n  num_replicas: 2\n  autoscaling_config: {max_replicas: 3}"),
     "\(d).deployment_config.num_replicas: not allowed with autoscaling_config (as in Ray Serve)"),
    (pdApp(prefill: "engine_kwargs: {data_parallel_size: 2}\ndeployment_config:\n  autoscaling_config: {max_replicas: 3}"),
     "\(p).deployment_config.autoscaling_config: not supported with engine_kwargs.data_parallel_size 2: data parallel replicas are fixed (as in Ray Serve)"),
    (pdApp(decode: "engine_kwargs: {data_parallel_size: 4}\ndeployment_config: {num_replicas: 2}"),
     "\(d).deployment_config.num_replicas: must equal engine_kwargs.data_parallel_size 4 (got 2)"),
    (pdApp(decode: "deployment_config: {num_replicas: 0}"),
     "\(d).deployment_config.num_replicas: a decode pool needs at least 1 replica (prefill may have 0)"),
    (pdApp(prefill: "engine_kwargs: {data_parallel_size: 0}"),
     "\(p).engine_kwargs.data_parallel_size: must be ≥ 1 (got 0)"),
    ("applications:\n  - import_path: ray.serve.llm:build_pd_openai_app\n    route_prefix: v1\n    args: {}",
     "applications[0].route_prefix: must start with / (got 'v1')"),
    (pdApp(decodeModel: "other"),
     "\(d).model_loading_config.model_id: must equal prefill_config's model_id 'm' (got 'other')"),
    (pdApp(prefill: "engine_kwargs:\n  kv_transfer_config: {kv_connector: NixlConnector, kv_role: kv_consumer}"),
     "\(p).engine_kwargs.kv_transfer_config.kv_role: a prefill engine cannot be kv_consumer"),
    (pdApp(decode: "engine_kwargs:\n  kv_transfer_config: {kv_role: bogus}"),
     "\(d).engine_kwargs.kv_transfer_config.kv_role: expected one of kv_producer, kv_consumer, kv_both (got 'bogus')"),
    (pdApp(decode: "engine_kwargs: {kv_cache_dtype: fp8}"),
     "\(d).engine_kwargs.kv_cache_dtype: expected one of auto, f16, f32, float16, float32 (got 'fp8')"),
    (pdApp(decode: "engine_kwargs: {enable_prefix_caching: maybe}"),
     "\(d).engine_kwargs.enable_prefix_caching: expected true or false"),
    (pdApp(prefill: "engine_kwargs: {max_num_seqs: 0}"),
     "\(p).engine_kwargs.max_num_seqs: must be ≥ 1 (got 0)"),
    (pdApp(decode: "engine_kwargs: {block_size: 32}"),
     "\(d).engine_kwargs.block_size: must equal prefill_config's block_size 16: KV blocks move between them (got 32)"),
    (pdApp(decode: "deployment_config: {health_check_period_s: 10s}"),
     "\(d).deployment_config.health_check_period_s: expected a number"),
    (pdApp(decode: "deployment_config: [1, 2]"),
     "\(d).deployment_config: expected a mapping"),
    (pdApp(decode: "runtime_env:\n  env_vars: {OMP_NUM_THREADS: [1]}"),
     "\(d).runtime_env.env_vars.OMP_NUM_THREADS: expected a string"),
    (pdApp(args: "pd_mode: replica"),
     "applications[0].args.replica_groups: missing (pd_mode: replica needs {prefill: x, decode: y})"),
    (pdApp(args: "pd_mode: replica\nreplica_groups: {prefill: 1, decode: 0}"),
     "applications[0].args.replica_groups.decode: must be ≥ 1 (got 0)"),
    (pdApp(args: "pd_mode: mixed"),
     "applications[0].args.pd_mode: expected one of pooled, replica (got 'mixed')"),
    (pdApp(tail: "router: {port: 70000}"), "router.port: must be in 1…65535 (got 70000)"),
    (pdApp(tail: "router:\n  weights: {load: -1}"), "router.weights.load: must be a finite number ≥ 0"),
    (pdApp(tail: "router: {prefill_failure: retry}"), "router.prefill_failure: expected one of local, fail (got 'retry')"),
    (pdApp(tail: "router: {api_keys: secret}"), "router.api_keys: expected a list"),
    ("applications:\n  - import_path: app:build\n    args: {}",
     "applications[0].import_path: expected ray.serve.llm:build_pd_openai_app or ray.serve.llm:build_openai_app (got 'app:build')"),
    ("applications:\n  - import_path: ray.serve.llm:build_pd_openai_app\n    args:\n      prefill_config:\n        model_loading_config: {model_source: x}",
     "\(p).model_loading_config.model_id: missing"),
    ("applications:\n  - import_path: ray.serve.llm:build_pd_openai_app\n    args:\n      prefill_config:\n        model_loading_config: {model_id: m}",
     "applications[0].args.decode_config: missing"),
    ("applications:\n  - import_path: ray.serve.llm:build_openai_app\n    args:\n      llm_configs:\n        - model_loading_config: {model_id: a}\n        - model_loading_config: {model_id: b}",
     "applications[0].args.llm_configs: Baton serves one model per application (got 2 llm_configs)"),
    ("http_options: {port: 8000}", "applications: missing (a list with one application)"),
    ("applications: []", "applications: expected one application (got none)"),
    ("applications:\n  - {import_path: ray.serve.llm:build_openai_app}\n  - {import_path: ray.serve.llm:build_openai_app}",
     "applications: Baton serves one application per `baton serve` (got 2)"),
    ("- just a list", "expected a mapping"),
]

@Suite struct AppConfigErrorTests {
    @Test(arguments: badConfigs.indices)
    func badConfigNamesItsKey(_ index: Int) {
        let (yaml, expected) = badConfigs[index]
        #expect(throws: ConfigError.self) { try AppConfig.load(yaml: yaml) }
        do {
            _ = try AppConfig.load(yaml: yaml)
        } catch let error as ConfigError {
            #expect(error.description == expected, "case \(index):\n\(yaml)")
        } catch {
            Issue.record("case \(index): not a ConfigError: \(error)")
        }
    }

    @Test func tableHasAtLeastFifteenCases() { #expect(badConfigs.count >= 15) }

    @Test func invalidYAMLIsAnError() {
        #expect(throws: ConfigError.self) { try AppConfig.load(yaml: "applications: [\n  - {") }
        #expect(throws: ConfigError.self) { try AppConfig.load(yaml: "") }
    }
}
