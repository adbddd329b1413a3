// The default app, build_openai_app, Baton's own sections (router:, pd_mode) and the reporting of
// unknown keys at known levels.

import BatonDeploy
import BatonOpenAI
import BatonRouter
import Testing

@Suite struct AppConfigTests {
    @Test func defaultApp() {
        let config = AppConfig.defaultApp()
        let app = config.application
        #expect(app.model.modelID == "smollm2" && app.model.modelSource == "smollm2")
        #expect(app.pools.map(\.role) == [.prefill, .decode])
        #expect(app.pools.map(\.llm.scaling) == [.fixed(1), .fixed(1)])
        #expect(config.router.port == 8000)
        #expect(config.ignored.isEmpty)
        #expect(config.plan.contains("prefill pool: 1 fixed replica\n"))
        #expect(AppConfig.defaultApp(port: 9000).router.port == 9000)
    }

    @Test func openAIAppIsOneCollocatedPool() throws {
        let config = try AppConfig.load(yaml: """
            applications:
              - name: llm
                route_prefix: /
                import_path: ray.serve.llm:build_openai_app
                args:
                  llm_configs:
                    - model_loading_config: {model_id: qwen, model_source: smollm2}
                      engine_kwargs:
                        max_num_seqs: 32
                        kv_transfer_config: {kv_connector: NixlConnector, kv_role: kv_both}
                      deployment_config: {num_replicas: 2}
            """)
        #expect(config.application.kind == .openai)
        #expect(config.application.pools.map(\.role) == [.both])
        #expect(config.application.pools[0].llm.scaling == .fixed(2))
        #expect(config.application.pools[0].llm.engine.maxNumSeqs == 32)
        #expect(config.application.pools[0].llm.engine.kvTransfer == nil)
        #expect(config.ignored.map(\.path) == ["applications[0].args.llm_configs[0].engine_kwargs.kv_transfer_config"])
        #expect(config.plan.contains("(collocated)"))
    }

    @Test func routerSectionAndHTTPOptions() throws {
        let config = try AppConfig.load(yaml: """
            http_options: {host: 0.0.0.0, port: 8100}
            proxy_location: EveryNode
            applications:
              - import_path: ray.serve.llm:build_pd_openai_app
                args:
                  prefill_config:
                    model_loading_config: {model_id: m}
                    engine_kwargs: {block_size: 32}
                  decode_config:
                    model_loading_config: {model_id: m}
                    engine_kwargs: {block_size: 32, kv_cache_dtype: f32, enable_prefix_caching: false}
                    runtime_env: {env_vars: {OMP_NUM_THREADS: "1"}}
            router:
              port: 9000
              api_keys: [k1, k2]
              split_threshold: 128
              session_header: x-conv
              prefill_failure: fail
              tokenizer: remote
              weights: {prefix: 1, load: 0.5, session: 3}
              timeouts: {connect_s: 1, prefill_s: 30, request_s: 120, idle_s: 0}
              health: {check_interval_s: 0.5}
              colour: blue
            """)
        let r = config.router
        #expect(r.host == "0.0.0.0" && r.port == 9000)
        #expect(r.apiKeys == ["k1", "k2"])
        #expect(r.splitThreshold == 128 && r.sessionHeader == "x-conv" && r.prefillFailure == .fail)
        #expect(r.weights == ScoreWeights(prefix: 1, load: 0.5, session: 3))
        #expect(r.timeouts.connect == .seconds(1) && r.timeouts.prefill == .seconds(30) && r.timeouts.request == .seconds(120))
        #expect(r.timeouts.idle == nil, "idle_s: 0 is never")
        #expect(r.health.checkInterval == .milliseconds(500))
        #expect(r.blockSize == 32)
        #expect(r.prefill.isEmpty && r.decode.isEmpty)
        let decode = try #require(config.application.pool(.decode))
        #expect(decode.llm.engine.kvCacheDtype == "f32" && !decode.llm.engine.enablePrefixCaching)
        #expect(decode.llm.envVars == ["OMP_NUM_THREADS": "1"])
        // model_source defaults to model_id, as in Ray Serve; kv_transfer_config to NixlConnector kv_both.
        #expect(config.application.model.modelSource == "m")
        #expect(config.application.pool(.prefill)?.llm.engine.kvTransfer == KVTransferConfig(connector: "NixlConnector"))
        #expect(config.ignored.map(\.path) == ["router.colour", "proxy_location"])
    }

    @Test func replicaMode() throws {
        let config = try AppConfig.load(yaml: """
            applications:
              - import_path: ray.serve.llm:build_pd_openai_app
                route_prefix: /llm
                args:
                  pd_mode: replica
                  replica_groups: {prefill: 1, decode: 2}
                  prefill_config:
                    model_loading_config: {model_id: m}
                    deployment_config: {num_replicas: 3}
                  decode_config:
                    model_loading_config: {model_id: m}
                    deployment_config:
                      autoscaling_config: {min_replicas: 1, max_replicas: 3}
            """)
        #expect(config.application.pdMode == .replica(prefill: 1, decode: 2))
        #expect(config.ignored.map(\.path) == [
            "applications[0].route_prefix",
            "applications[0].args.prefill_config.deployment_config.num_replicas",
        ])
        #expect(config.application.routePrefix == "/llm")
        // Resolved as written, though in replica mode the group count comes from decode_config.
        #expect(config.application.pool(.prefill)?.llm.scaling == .fixed(3))
        #expect(config.plan.contains("pd_mode replica: groups of 1 prefill + 2 decode"))
    }

    @Test func unknownKeysAtKnownLevelsAreReported() throws {
        let config = try AppConfig.load(yaml: """
            applications:
              - import_path: ray.serve.llm:build_pd_openai_app
                typo_key: 1
                args:
                  prefill_config:
                    model_loading_config: {model_id: m, revision: main}
                    engine_kwargs: {max_num_seqz: 4, swap_space: 4}
                    deployment_config:
                      max_ongoing_request: 3
                      autoscaling_config: {min_replicas: 1, max_replica: 3, metrics_interval_s: 10}
                  decode_config:
                    model_loading_config: {model_id: m}
                    runtime_env: {pip: [lmcache], env_vars: {LMCACHE_X: "1"}}
            """)
        let notes = config.ignored.map(\.description)
        let p = "applications[0].args.prefill_config"
        #expect(notes == [
            "ignored: \(p).model_loading_config.revision (unknown key)",
            "ignored: \(p).engine_kwargs.max_num_seqz (not a Baton engine setting)",
            "ignored: \(p).engine_kwargs.swap_space (not a Baton engine setting)",
            "ignored: \(p).deployment_config.autoscaling_config.max_replica (unknown key)",
            "ignored: \(p).deployment_config.autoscaling_config.metrics_interval_s (the router reports load every health scrape)",
            "ignored: \(p).deployment_config.max_ongoing_request (unknown key)",
            "ignored: applications[0].args.decode_config.runtime_env.env_vars.LMCACHE_X (meant for another serving stack; not passed to the engine)",
            "ignored: applications[0].args.decode_config.runtime_env.pip (only env_vars is used; nothing is installed per replica)",
            "ignored: applications[0].typo_key (unknown key)",
        ])
    }

    /// A prefill pool of 0 fixed replicas: every request takes the router's local path.
    @Test func prefillMayHaveZeroFixedReplicas() throws {
        let config = try AppConfig.load(yaml: """
            applications:
              - import_path: ray.serve.llm:build_pd_openai_app
                args:
                  prefill_config:
                    model_loading_config: {model_id: m}
                    deployment_config: {num_replicas: 0}
                  decode_config:
                    model_loading_config: {model_id: m}
            """)
        #expect(config.application.pools.map(\.llm.scaling) == [.fixed(0), .fixed(1)])
    }

    @Test func targetMetricAndValue() throws {
        let config = try AppConfig.load(yaml: """
            applications:
              - import_path: ray.serve.llm:build_pd_openai_app
                args:
                  prefill_config:
                    model_loading_config: {model_id: m}
                    deployment_config:
                      autoscaling_config: {min_replicas: 0, max_replicas: 2, target_metric: queued_prompt_tokens, target_value: 4096}
                  decode_config:
                    model_loading_config: {model_id: m}
                    deployment_config:
                      num_replicas: auto
            """)
        guard case .autoscaled(let p) = config.application.pool(.prefill)?.llm.scaling,
              case .autoscaled(let d) = config.application.pool(.decode)?.llm.scaling
        else { Issue.record("both autoscale"); return }
        #expect(p.targetMetric == .queuedPromptTokens && p.target == 4096 && p.minReplicas == 0 && p.startReplicas == 0)
        #expect(d.minReplicas == 1 && d.maxReplicas == 100 && d.target == 2)
    }
}
