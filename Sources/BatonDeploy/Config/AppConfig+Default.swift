// The app `baton serve` runs with no file: one prefill and one decode engine of the default
// model, the router on port 8000.

import BatonOpenAI
import BatonRouter

extension AppConfig {
    /// How long the app's router lets a request wait for a decode while none is up (the
    /// supervisor is restarting it) before answering 503.
    public static let defaultWaitForDecode: Duration = .seconds(30)

    /// The model pulled on first use when no file names one.
    public static let defaultModel = "smollm2"

    /// 1 prefill + 1 decode of `smollm2` (kv_producer / kv_consumer), pooled, router on 8000.
    public static func defaultApp(port: Int = 8000) -> AppConfig {
        let model = ModelLoadingConfig(modelID: defaultModel)
        var prefill = LLMConfig(model: model)
        prefill.engine.kvTransfer = KVTransferConfig(connector: "NixlConnector", role: .producer)
        var decode = LLMConfig(model: model)
        decode.engine.kvTransfer = KVTransferConfig(connector: "NixlConnector", role: .consumer)
        let app = Application(
            name: "default", kind: .pd, model: model,
            pools: [PoolConfig(role: .prefill, llm: prefill), PoolConfig(role: .decode, llm: decode)])
        var router = RouterConfig(prefill: [], decode: [])
        router.port = port
        router.tokenizer = .gguf(path: defaultModel)
        router.waitForDecode = defaultWaitForDecode
        return AppConfig(application: app, router: router)
    }
}
