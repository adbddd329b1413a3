// The `baton serve --check` plan text: the default app's exactly, and what a mixed config shows.

import BatonDeploy
import Foundation
import Testing

@Suite struct AppConfigPlanTests {
    @Test func defaultAppPlan() {
        #expect(AppConfig.defaultApp().plan == """
            application default (prefill/decode) at /
              model smollm2 from smollm2
              pd_mode pooled (any prefill with any decode)
              prefill pool: 1 fixed replica
                engine block_size 16, kv_cache_dtype auto, prefix caching on, kv_role kv_producer
                health every 10s (timeout 30s), graceful shutdown 20s
              decode pool: 1 fixed replica
                engine block_size 16, kv_cache_dtype auto, prefix caching on, kv_role kv_consumer
                health every 10s (timeout 30s), graceful shutdown 20s
            router on 127.0.0.1:8000
              split_threshold 64 tokens, block_size 16, prefill_failure local, wait_for_decode 30s
              weights prefix 2 load 1 session 4, session_header x-session-id
              auth off, tokenizer smollm2's, loaded in the router
            """)
    }

    @Test func mixedPlanShowsResolvedValuesAndIgnoredKeysOnce() throws {
        let plan = try AppConfig.load(yaml: """
            applications:
              - name: llm_pd_app
                import_path: ray.serve.llm:build_pd_openai_app
                args:
                  prefill_config:
                    model_loading_config: {model_id: llama-8b, model_source: smollm2}
                    accelerator_type: A100
                    deployment_config:
                      autoscaling_config: {min_replicas: 0, max_replicas: 2, target_metric: queued_prompt_tokens}
                    engine_kwargs: {tensor_parallel_size: 2, max_num_seqs: 8}
                  decode_config:
                    model_loading_config: {model_id: llama-8b, model_source: smollm2}
                    accelerator_type: A100
                    deployment_config: {num_replicas: 2, max_ongoing_requests: 64}
                    runtime_env: {env_vars: {OMP_NUM_THREADS: "1", LMCACHE_X: "y"}}
            router: {api_keys: [a], port: 8080}
            """).plan
        for line in [
            "  prefill pool: autoscaled 0…2 (start 0) on queued_prompt_tokens target 2048 per replica, look-back 30s, up after 30s ×1, down after 600s ×1",
            "    at 0 prefill replicas every request takes the router's local path",
            "    engine block_size 16, kv_cache_dtype auto, prefix caching on, max_num_seqs 8, kv_role kv_both",
            "  decode pool: 2 fixed replicas",
            "    health every 10s (timeout 30s), graceful shutdown 20s, max_ongoing_requests 64",
            "    env OMP_NUM_THREADS=1",
            "router on 127.0.0.1:8080",
            "  auth 1 key(s), tokenizer smollm2's, loaded in the router",
            "4 ignored key(s):",
            "  ignored: applications[0].args.prefill_config.engine_kwargs.tensor_parallel_size (one engine process per replica; tensor parallelism is not supported)",
            "  ignored: applications[0].args.decode_config.runtime_env.env_vars.LMCACHE_X (meant for another serving stack; not passed to the engine)",
        ] {
            #expect(plan.split(separator: "\n").contains(Substring(line)), "missing: \(line)\n\(plan)")
        }
        #expect(plan.components(separatedBy: "accelerator_type").count == 3)
    }
}
