// The supervisor's pure parts: each replica's `baton engine` command line from its pool's
// LLMConfig, cores dealt to replicas, and the restart backoff.

import BatonDeploy
import Testing

@Suite struct SupervisorPlanTests {
    let context = ReplicaContext(modelPath: "/m/model.gguf", engineAPIKey: "ek", kvSecret: "ks")

    func flag(_ args: [String], _ name: String) -> String? {
        args.firstIndex(of: name).map { args[$0 + 1] }
    }

    @Test func defaultAppReplicasAreAProducerAndAConsumerOnTheirOwnCores() throws {
        let app = AppConfig.defaultApp().application
        let cores = cpuAssignment(replicas: 2, available: [0, 1])
        #expect(cores == [[0], [1]])
        let p = try #require(app.pool(.prefill)).replica(0, app: app, context: context, port: 9001, kvPort: 9101, cpus: cores[0])
        let d = try #require(app.pool(.decode)).replica(0, app: app, context: context, port: 9002, kvPort: 9102, cpus: cores[1])
        #expect(p.name == "prefill-0" && d.name == "decode-0")
        #expect(p.url == "http://127.0.0.1:9001")
        #expect(p.arguments.first == "engine")
        #expect(flag(p.arguments, "--model") == "/m/model.gguf" && flag(p.arguments, "--served-model-name") == "smollm2")
        #expect(flag(p.arguments, "--port") == "9001" && flag(p.arguments, "--host") == "127.0.0.1")
        #expect(flag(p.arguments, "--kv-role") == "kv_producer" && flag(p.arguments, "--kv-port") == "9101" && p.kvPort == 9101)
        #expect(flag(d.arguments, "--kv-role") == "kv_consumer" && flag(d.arguments, "--kv-port") == nil && d.kvPort == nil)
        #expect(flag(p.arguments, "--cpu-affinity") == "0" && flag(d.arguments, "--cpu-affinity") == "1")
        #expect(flag(p.arguments, "--threads") == "1")
        #expect(flag(p.arguments, "--shutdown-timeout") == "20")
        #expect(flag(p.arguments, "--kv-engine-id") != flag(d.arguments, "--kv-engine-id"))
        #expect(p.environment["BATON_API_KEY"] == "ek" && p.environment["BATON_KV_SECRET"] == "ks")
        #expect(!p.arguments.contains("--disable-prefix-caching"))
    }

    @Test func engineKwargsBecomeEngineFlags() throws {
        let config = try AppConfig.load(yaml: """
            applications:
              - name: app
                import_path: ray.serve.llm:build_openai_app
                args:
                  llm_configs:
                    - model_loading_config: {model_id: m, model_source: /x.gguf}
                      engine_kwargs: {max_num_seqs: 8, max_num_batched_tokens: 256, max_model_len: 1024, block_size: 32,
                                      kv_cache_dtype: f32, enable_prefix_caching: false}
                      deployment_config: {num_replicas: 3, graceful_shutdown_timeout_s: 2.5}
                      runtime_env: {env_vars: {OMP_NUM_THREADS: "1"}}
            """)
        let app = config.application
        let pool = try #require(app.pool(.both))
        let r = pool.replica(2, app: app, context: context, port: 7000, kvPort: 7100, cpus: [0, 1])
        #expect(r.name == "engine-2" && r.role == .both)
        #expect(flag(r.arguments, "--max-num-seqs") == "8" && flag(r.arguments, "--max-num-batched-tokens") == "256")
        #expect(flag(r.arguments, "--max-model-len") == "1024" && flag(r.arguments, "--block-size") == "32")
        #expect(flag(r.arguments, "--kv-cache-dtype") == "f32" && r.arguments.contains("--disable-prefix-caching"))
        #expect(flag(r.arguments, "--served-model-name") == "m" && flag(r.arguments, "--shutdown-timeout") == "2.5")
        #expect(flag(r.arguments, "--kv-role") == nil && r.kvPort == nil, "a collocated pool moves no KV")
        #expect(flag(r.arguments, "--threads") == "2" && flag(r.arguments, "--cpu-affinity") == "0,1")
        #expect(r.environment["OMP_NUM_THREADS"] == "1")
        #expect(PoolRole.both.routerRole == "decode" && PoolRole.prefill.routerRole == "prefill")
    }

    @Test func coresAreDealtInTurn() {
        #expect(cpuAssignment(replicas: 3, available: [0, 1]) == [[0], [1], [0]])
        #expect(cpuAssignment(replicas: 2, available: [0, 1, 2, 3]) == [[0, 1], [2, 3]])
        #expect(cpuAssignment(replicas: 2, available: [4, 6, 8]) == [[4], [6]])
        #expect(cpuAssignment(replicas: 2, available: []) == [[], []])
        #expect(cpuAssignment(replicas: 0, available: [0]) == [])
    }

    @Test func restartBackoffDoublesWhileCrashingAndResetsAfterAStableRun() {
        var b = RestartBackoff(base: .seconds(1), max: .seconds(8), stable: .seconds(60))
        let quick = [b.exited(after: .seconds(2)), b.exited(after: .seconds(1)), b.exited(after: .seconds(3)),
                     b.exited(after: .seconds(1)), b.exited(after: .seconds(1))]
        #expect(quick == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(8)])
        #expect(b.crashes == 5)
        #expect(b.exited(after: .seconds(61)) == .seconds(1), "a run past `stable` starts over")
        #expect(b.crashes == 1)
        #expect(b.exited(after: .seconds(1)) == .seconds(2))
    }
}
