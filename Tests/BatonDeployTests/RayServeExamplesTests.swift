// Every YAML example of Ray Serve's PD docs (NixlConnector, LMCacheConnectorV1 with NIXL and with
// Mooncake, the RayService template, DP+PD and independent autoscaling) loads unchanged apart from
// `model_source`, and gives the expected plan and ignored-key notes.

import BatonDeploy
import BatonOpenAI
import BatonRouter
import Testing

@Suite struct RayServeExamplesTests {
    let a = "applications[0].args"

    @Test func nixlConnector() throws {
        let config = try AppConfig.load(yaml: """
            # Example: Basic NIXLConnector configuration for prefill/decode disaggregation
            # nixl_config.yaml

            applications:
              - args:
                  prefill_config:
                    model_loading_config:
                      model_id: meta-llama/Llama-3.1-8B-Instruct
                      model_source: smollm2
                    engine_kwargs:
                      kv_transfer_config:
                        kv_connector: NixlConnector
                        kv_role: kv_producer
                        engine_id: engine1
                    deployment_config:
                      autoscaling_config:
                        min_replicas: 2
                        max_replicas: 4

                  decode_config:
                    model_loading_config:
                      model_id: meta-llama/Llama-3.1-8B-Instruct
                      model_source: smollm2
                    engine_kwargs:
                      kv_transfer_config:
                        kv_connector: NixlConnector
                        kv_role: kv_consumer
                        engine_id: engine2
                    deployment_config:
                      autoscaling_config:
                        min_replicas: 6
                        max_replicas: 10

                import_path: ray.serve.llm:build_pd_openai_app
                name: pd-disaggregation-nixl
                route_prefix: "/"
            """)
        let app = config.application
        #expect(app.name == "pd-disaggregation-nixl")
        #expect(app.kind == .pd)
        #expect(app.pdMode == .pooled)
        #expect(app.model == ModelLoadingConfig(modelID: "meta-llama/Llama-3.1-8B-Instruct", modelSource: "smollm2"))
        let prefill = try #require(app.pool(.prefill))
        let decode = try #require(app.pool(.decode))
        #expect(prefill.llm.engine.kvTransfer == KVTransferConfig(connector: "NixlConnector", role: .producer))
        #expect(decode.llm.engine.kvTransfer?.role == .consumer)
        guard case .autoscaled(let p) = prefill.llm.scaling, case .autoscaled(let d) = decode.llm.scaling else {
            Issue.record("both pools autoscale"); return
        }
        #expect((p.minReplicas, p.maxReplicas, p.startReplicas) == (2, 4, 2))
        #expect((d.minReplicas, d.maxReplicas, d.startReplicas) == (6, 10, 6))
        // Ray's defaults where the keys are absent.
        #expect(d.target == 2)
        #expect(d.lookBackPeriod == .seconds(30))
        #expect(d.upscaleDelay == .seconds(30))
        #expect(d.downscaleDelay == .seconds(600))
        #expect(d.upscalingFactor == 1 && d.downscalingFactor == 1)
        #expect(d.targetMetric == .ongoingRequests)
        #expect(config.router.port == 8000)
        #expect(config.ignored.map(\.path) == [
            "\(a).prefill_config.engine_kwargs.kv_transfer_config.kv_connector",
            "\(a).prefill_config.engine_kwargs.kv_transfer_config.engine_id",
            "\(a).decode_config.engine_kwargs.kv_transfer_config.kv_connector",
            "\(a).decode_config.engine_kwargs.kv_transfer_config.engine_id",
        ])
        let plan = config.plan
        #expect(plan.contains("application pd-disaggregation-nixl (prefill/decode) at /"))
        #expect(plan.contains("model meta-llama/Llama-3.1-8B-Instruct from smollm2"))
        #expect(plan.contains("prefill pool: autoscaled 2…4 (start 2) on ongoing_requests target 2 per replica, look-back 30s, up after 30s ×1, down after 600s ×1"))
        #expect(plan.contains("decode pool: autoscaled 6…10 (start 6)"))
        #expect(plan.contains("kv_role kv_consumer"))
        #expect(plan.contains("router on 127.0.0.1:8000"))
        #expect(plan.contains("4 ignored key(s):"))
        #expect(plan.contains("ignored: \(a).decode_config.engine_kwargs.kv_transfer_config.engine_id (Baton names each replica itself)"))
    }

    @Test func lmcacheWithNixl() throws {
        let config = try AppConfig.load(yaml: """
            # Example: LMCacheConnectorV1 with NIXL backend configuration

            applications:
              - args:
                  prefill_config:
                    model_loading_config:
                      model_id: meta-llama/Llama-3.1-8B-Instruct
                      model_source: smollm2
                    engine_kwargs:
                      kv_transfer_config:
                        kv_connector: LMCacheConnectorV1
                        kv_role: kv_producer
                        kv_connector_extra_config:
                          discard_partial_chunks: false
                          lmcache_rpc_port: producer1
                    deployment_config:
                      autoscaling_config:
                        min_replicas: 2
                        max_replicas: 2
                    runtime_env:
                      env_vars:
                        LMCACHE_CONFIG_FILE: lmcache_prefiller.yaml
                        LMCACHE_USE_EXPERIMENTAL: "True"

                  decode_config:
                    model_loading_config:
                      model_id: meta-llama/Llama-3.1-8B-Instruct
                      model_source: smollm2
                    engine_kwargs:
                      kv_transfer_config:
                        kv_connector: LMCacheConnectorV1
                        kv_role: kv_consumer
                        kv_connector_extra_config:
                          discard_partial_chunks: false
                          lmcache_rpc_port: consumer1
                    deployment_config:
                      autoscaling_config:
                        min_replicas: 6
                        max_replicas: 6
                    runtime_env:
                      env_vars:
                        LMCACHE_CONFIG_FILE: lmcache_decoder.yaml
                        LMCACHE_USE_EXPERIMENTAL: "True"

                import_path: ray.serve.llm:build_pd_openai_app
                name: pd-disaggregation-lmcache-nixl
                route_prefix: "/"
            """)
        let app = config.application
        #expect(app.name == "pd-disaggregation-lmcache-nixl")
        #expect(app.pool(.prefill)?.llm.engine.kvTransfer == KVTransferConfig(connector: "LMCacheConnectorV1", role: .producer))
        // LMCache's env vars are not passed to Baton's engines.
        #expect(app.pool(.prefill)?.llm.envVars == [:])
        guard case .autoscaled(let d) = app.pool(.decode)?.llm.scaling else { Issue.record("decode autoscales"); return }
        #expect((d.minReplicas, d.maxReplicas) == (6, 6))
        var expected: [String] = []
        for role in ["prefill", "decode"] {
            expected += [
                "\(a).\(role)_config.engine_kwargs.kv_transfer_config.kv_connector",
                "\(a).\(role)_config.engine_kwargs.kv_transfer_config.kv_connector_extra_config",
                "\(a).\(role)_config.runtime_env.env_vars.LMCACHE_CONFIG_FILE",
                "\(a).\(role)_config.runtime_env.env_vars.LMCACHE_USE_EXPERIMENTAL",
            ]
        }
        #expect(config.ignored.map(\.path) == expected)
        #expect(config.plan.contains("prefill pool: autoscaled 2…2 (start 2)"))
        #expect(config.plan.contains("8 ignored key(s):"))
    }

    @Test func lmcacheWithMooncakeAnchorsAndAliases() throws {
        let config = try AppConfig.load(yaml: """
            # Example: LMCacheConnectorV1 with Mooncake store configuration

            applications:
              - args:
                  prefill_config:
                    model_loading_config:
                      model_id: meta-llama/Llama-3.1-8B-Instruct
                      model_source: smollm2
                    engine_kwargs:
                      kv_transfer_config: &kv_transfer_config
                        kv_connector: LMCacheConnectorV1
                        kv_role: kv_both
                    deployment_config:
                      autoscaling_config:
                        min_replicas: 2
                        max_replicas: 2
                    runtime_env: &runtime_env
                      env_vars:
                        LMCACHE_CONFIG_FILE: lmcache_mooncake.yaml
                        LMCACHE_USE_EXPERIMENTAL: "True"

                  decode_config:
                    model_loading_config:
                      model_id: meta-llama/Llama-3.1-8B-Instruct
                      model_source: smollm2
                    engine_kwargs:
                      kv_transfer_config: *kv_transfer_config
                    deployment_config:
                      autoscaling_config:
                        min_replicas: 1
                        max_replicas: 1
                    runtime_env: *runtime_env

                import_path: ray.serve.llm:build_pd_openai_app
                name: pd-disaggregation-lmcache-mooncake
                route_prefix: "/"
            """)
        let app = config.application
        #expect(app.pool(.prefill)?.llm.engine.kvTransfer?.role == .both)
        #expect(app.pool(.decode)?.llm.engine.kvTransfer == KVTransferConfig(connector: "LMCacheConnectorV1", role: .both))
        guard case .autoscaled(let d) = app.pool(.decode)?.llm.scaling else { Issue.record("decode autoscales"); return }
        #expect((d.minReplicas, d.maxReplicas) == (1, 1))
        // The aliased nodes are reported at the path where each was used.
        #expect(config.ignored.map(\.path) == [
            "\(a).prefill_config.engine_kwargs.kv_transfer_config.kv_connector",
            "\(a).prefill_config.runtime_env.env_vars.LMCACHE_CONFIG_FILE",
            "\(a).prefill_config.runtime_env.env_vars.LMCACHE_USE_EXPERIMENTAL",
            "\(a).decode_config.engine_kwargs.kv_transfer_config.kv_connector",
            "\(a).decode_config.runtime_env.env_vars.LMCACHE_CONFIG_FILE",
            "\(a).decode_config.runtime_env.env_vars.LMCACHE_USE_EXPERIMENTAL",
        ])
    }

    /// The RayService template: accelerator_type, tensor_parallel_size 2 and
    /// gpu_memory_utilization are read and listed as ignored.
    @Test func rayServiceTemplate() throws {
        let config = try AppConfig.load(yaml: """
            applications:
              - name: llm_pd_app
                route_prefix: /
                import_path: ray.serve.llm:build_pd_openai_app
                args:
                  prefill_config:
                    model_loading_config:
                      model_id: llama-8b
                      model_source: /models/smollm2.gguf
                    accelerator_type: A100
                    deployment_config:
                      autoscaling_config:
                        min_replicas: 1
                        max_replicas: 2
                    engine_kwargs:
                      tensor_parallel_size: 2
                      kv_transfer_config:
                        kv_connector: NixlConnector
                        kv_role: kv_both
                  decode_config:
                    model_loading_config:
                      model_id: llama-8b
                      model_source: /models/smollm2.gguf
                    accelerator_type: A100
                    deployment_config:
                      autoscaling_config:
                        min_replicas: 2
                        max_replicas: 8
                    engine_kwargs:
                      gpu_memory_utilization: 0.95
                      kv_transfer_config:
                        kv_connector: NixlConnector
                        kv_role: kv_both
            """)
        #expect(config.application.model == ModelLoadingConfig(modelID: "llama-8b", modelSource: "/models/smollm2.gguf"))
        #expect(config.ignored.map(\.path) == [
            "\(a).prefill_config.engine_kwargs.tensor_parallel_size",
            "\(a).prefill_config.engine_kwargs.kv_transfer_config.kv_connector",
            "\(a).prefill_config.accelerator_type",
            "\(a).decode_config.engine_kwargs.kv_transfer_config.kv_connector",
            "\(a).decode_config.engine_kwargs.gpu_memory_utilization",
            "\(a).decode_config.accelerator_type",
        ])
        #expect(config.plan.contains("decode pool: autoscaled 2…8 (start 2)"))
    }

    /// The docs' independent-autoscaling example, written as YAML.
    @Test func independentAutoscaling() throws {
        let config = try AppConfig.load(yaml: """
            applications:
              - name: pd
                import_path: ray.serve.llm:build_pd_openai_app
                args:
                  prefill_config:
                    model_loading_config: {model_id: llama-8b, model_source: smollm2}
                    engine_kwargs:
                      kv_transfer_config: {kv_connector: NixlConnector, kv_role: kv_both}
                    deployment_config:
                      autoscaling_config:
                        min_replicas: 1
                        max_replicas: 4
                        target_ongoing_requests: 8
                        upscale_delay_s: 15
                        downscale_delay_s: 300
                      max_ongoing_requests: 32
                  decode_config:
                    model_loading_config: {model_id: llama-8b, model_source: smollm2}
                    engine_kwargs:
                      kv_transfer_config: {kv_connector: NixlConnector, kv_role: kv_both}
                    deployment_config:
                      autoscaling_config:
                        min_replicas: 2
                        max_replicas: 8
                        target_ongoing_requests: 16
                        upscale_delay_s: 30
                        downscale_delay_s: 600
                      max_ongoing_requests: 128
            """)
        guard case .autoscaled(let p) = config.application.pool(.prefill)?.llm.scaling,
              case .autoscaled(let d) = config.application.pool(.decode)?.llm.scaling
        else { Issue.record("both pools autoscale"); return }
        #expect(p.target == 8 && p.upscaleDelay == .seconds(15) && p.downscaleDelay == .seconds(300))
        #expect(d.target == 16 && d.maxReplicas == 8)
        #expect(config.application.pool(.prefill)?.llm.deployment.maxOngoingRequests == 32)
        #expect(config.plan.contains("max_ongoing_requests 128"))
    }

    /// DP+PD: data_parallel_size gives that many fixed replicas; tensor_parallel_size 1 is silent.
    @Test func dataParallelPD() throws {
        let config = try AppConfig.load(yaml: """
            applications:
              - name: dp
                import_path: ray.serve.llm:build_pd_openai_app
                args:
                  prefill_config:
                    model_loading_config: {model_id: llama-8b, model_source: smollm2}
                    engine_kwargs:
                      data_parallel_size: 2
                      tensor_parallel_size: 1
                      kv_transfer_config: {kv_connector: NixlConnector, kv_role: kv_both}
                    experimental_configs: {dp_size_per_node: 2}
                  decode_config:
                    model_loading_config: {model_id: llama-8b, model_source: smollm2}
                    engine_kwargs:
                      data_parallel_size: 4
                      tensor_parallel_size: 1
                      kv_transfer_config: {kv_connector: NixlConnector, kv_role: kv_both}
                    deployment_config: {num_replicas: 4}
                    experimental_configs: {dp_size_per_node: 4}
            """)
        #expect(config.application.pool(.prefill)?.llm.scaling == .fixed(2))
        #expect(config.application.pool(.decode)?.llm.scaling == .fixed(4))
        #expect(config.ignored.map(\.path).contains("\(a).prefill_config.experimental_configs"))
        #expect(!config.ignored.map(\.path).contains { $0.hasSuffix("tensor_parallel_size") })
        #expect(config.plan.contains("decode pool: 4 fixed replicas"))
    }
}
