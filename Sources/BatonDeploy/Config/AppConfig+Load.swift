// Reads Ray Serve's serve-config YAML (`applications[]`, `http_options`) plus Baton's `router:`
// section into an `AppConfig`. Entry point: `AppConfig.load(yaml:)`.

import BatonRouter
import Yams

extension AppConfig {
    /// Top-level keys of a Ray Serve config Baton has no use for.
    static let ignoredTopLevel: [String: String] = [
        "proxy_location": "one router process serves every request",
        "grpc_options": "Baton serves HTTP only",
        "logging_config": "engine logs go to stderr, prefixed by replica",
        "target_capacity": "not supported",
    ]

    /// Parses and validates `yaml`, throwing the first `ConfigError` (its path names the key).
    public static func load(yaml: String) throws -> AppConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(path: "", message: "not valid YAML: \(error)")
        }
        guard let root else { throw ConfigError(path: "", message: "the file is empty") }
        let ignored = IgnoredKeys()
        let top = try YAMLCursor(node: root, path: "", ignored: ignored).mapping()

        var router = RouterConfig(prefill: [], decode: [])
        if let http = top.take("http_options") {
            let map = try http.mapping()
            if let host = map.take("host") { router.host = try host.string() }
            if let port = map.take("port") { router.port = try port.int() }
            map.finish(unknown: "not supported by Baton's router")
        }

        guard let appsCursor = top.take("applications") else {
            throw ConfigError(path: "applications", message: "missing (a list with one application)")
        }
        let apps = try appsCursor.sequence()
        guard !apps.isEmpty else { throw appsCursor.fail("expected one application (got none)") }
        guard apps.count == 1 else {
            throw appsCursor.fail("Baton serves one application per `baton serve` (got \(apps.count))")
        }
        let application = try Application.load(apps[0])
        // The engines' model file holds the tokenizer: the router loads it unless told otherwise.
        router.tokenizer = .gguf(path: application.model.modelSource)
        router.waitForDecode = AppConfig.defaultWaitForDecode
        if let section = top.take("router") {
            try router.load(section)
        }
        top.finish(reasons: ignoredTopLevel)

        // The engines' block size is the router's hash block size.
        router.blockSize = application.pools[0].llm.engine.blockSize
        return AppConfig(application: application, router: router, ignored: ignored.notes)
    }
}

extension Application {
    static let ignoredKeys: [String: String] = [
        "runtime_env": "set env vars per config in runtime_env.env_vars",
        "deployments": "Baton's pools are configured through args",
        "logging_config": "engine logs go to stderr, prefixed by replica",
        "external_scaler_enabled": "Baton's own autoscaler scales the pools",
    ]

    static func load(_ cursor: YAMLCursor) throws -> Application {
        let map = try cursor.mapping()
        guard let importCursor = map.take("import_path") else {
            throw ConfigError(path: cursor.child("import_path"), message: "missing")
        }
        let importPath = try importCursor.string()
        guard let kind = AppKind(rawValue: importPath) else {
            throw importCursor.fail(
                "expected \(AppKind.pd.rawValue) or \(AppKind.openai.rawValue) (got '\(importPath)')")
        }
        let name = try map.take("name")?.string() ?? "default"
        var routePrefix = "/"
        if let prefix = map.take("route_prefix") {
            routePrefix = try prefix.string()
            guard routePrefix.hasPrefix("/") else { throw prefix.fail("must start with / (got '\(routePrefix)')") }
            if routePrefix != "/" {
                cursor.ignored.add(prefix.path, "the router serves the OpenAI API at /")
            }
        }
        guard let argsCursor = map.take("args") else {
            throw ConfigError(path: cursor.child("args"), message: "missing")
        }
        let args = try argsCursor.mapping()
        var app: Application
        switch kind {
        case .pd: app = try loadPD(args, name: name)
        case .openai: app = try loadOpenAI(args, name: name)
        }
        app.routePrefix = routePrefix
        map.finish(reasons: ignoredKeys)
        return app
    }

    /// `build_pd_openai_app`'s args: `prefill_config`, `decode_config`, and Baton's `pd_mode`.
    static func loadPD(_ args: YAMLMapping, name: String) throws -> Application {
        guard let p = args.take("prefill_config") else {
            throw ConfigError(path: args.cursor.child("prefill_config"), message: "missing")
        }
        let prefill = try LLMConfig.load(p, role: .prefill)
        guard let d = args.take("decode_config") else {
            throw ConfigError(path: args.cursor.child("decode_config"), message: "missing")
        }
        let decode = try LLMConfig.load(d, role: .decode)
        if case .fixed(0) = decode.scaling {
            throw ConfigError(path: "\(d.path).deployment_config.num_replicas",
                              message: "a decode pool needs at least 1 replica (prefill may have 0)")
        }
        if decode.model.modelID != prefill.model.modelID {
            throw ConfigError(
                path: "\(d.path).model_loading_config.model_id",
                message: "must equal prefill_config's model_id '\(prefill.model.modelID)' (got '\(decode.model.modelID)')")
        }
        if decode.model.modelSource != prefill.model.modelSource {
            throw ConfigError(
                path: "\(d.path).model_loading_config.model_source",
                message: "must equal prefill_config's model_source '\(prefill.model.modelSource)' (got '\(decode.model.modelSource)')")
        }
        if decode.engine.blockSize != prefill.engine.blockSize {
            throw ConfigError(
                path: "\(d.path).engine_kwargs.block_size",
                message: "must equal prefill_config's block_size \(prefill.engine.blockSize): KV blocks move between them (got \(decode.engine.blockSize))")
        }
        var app = Application(name: name, kind: .pd, model: prefill.model,
                              pools: [PoolConfig(role: .prefill, llm: prefill), PoolConfig(role: .decode, llm: decode)])
        if let modeCursor = args.take("pd_mode") {
            switch try modeCursor.oneOf(["pooled", "replica"]) {
            case "replica":
                guard let groups = args.take("replica_groups") else {
                    throw ConfigError(path: args.cursor.child("replica_groups"),
                                      message: "missing (pd_mode: replica needs {prefill: x, decode: y})")
                }
                let g = try groups.mapping()
                guard let gp = g.take("prefill") else { throw ConfigError(path: groups.child("prefill"), message: "missing") }
                guard let gd = g.take("decode") else { throw ConfigError(path: groups.child("decode"), message: "missing") }
                app.pdMode = .replica(prefill: try gp.int(atLeast: 1), decode: try gd.int(atLeast: 1))
                g.finish()
                // Whole groups scale by decode_config's replica count; prefill's is unused.
                if let dc = p.node.mapping?["deployment_config"], case .mapping(let dm) = dc {
                    for key in ["num_replicas", "autoscaling_config"] where dm[key] != nil {
                        args.cursor.ignored.add("\(p.path).deployment_config.\(key)",
                                                "pd_mode: replica scales whole groups by decode_config")
                    }
                }
            default:
                if let groups = args.take("replica_groups") {
                    args.cursor.ignored.add(groups.path, "only used with pd_mode: replica")
                }
            }
        } else if let groups = args.take("replica_groups") {
            throw groups.fail("needs pd_mode: replica")
        }
        args.finish(reasons: [
            "proxy_cls_config": "the router is Baton's PD proxy",
            "ingress_deployment_config": "the router is Baton's ingress",
            "ingress_cls_config": "the router is Baton's ingress",
        ])
        return app
    }

    /// `build_openai_app`'s args: `llm_configs` (one, served by a pool of kv_both engines).
    static func loadOpenAI(_ args: YAMLMapping, name: String) throws -> Application {
        guard let list = args.take("llm_configs") else {
            throw ConfigError(path: args.cursor.child("llm_configs"), message: "missing")
        }
        let configs = try list.sequence()
        guard configs.count == 1 else {
            throw list.fail("Baton serves one model per application (got \(configs.count) llm_configs)")
        }
        let llm = try LLMConfig.load(configs[0], role: .both)
        args.finish(reasons: ["ingress_deployment_config": "the router is Baton's ingress"])
        return Application(name: name, kind: .openai, model: llm.model, pools: [PoolConfig(role: .both, llm: llm)])
    }
}
