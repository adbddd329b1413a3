// `--kv-transfer-config` in vLLM's JSON shape: defaults, the NixlConnector alias, unused keys
// reported, and every bad value an error that names its key.

import BatonEngine
import BatonKVTransfer
import BatonOpenAI
import Testing

@Suite struct KVTransferConfigTests {
    @Test func readsVLLMsShape() throws {
        let (c, notes) = try KVTransferConfig.parse(json: #"""
            {"kv_connector":"NixlConnector","kv_role":"kv_consumer","engine_id":"d1","kv_ip":"10.0.0.2","kv_port":5600,
             "kv_buffer_device":"cpu","kv_connector_extra_config":{"lease_s":12.5,"heartbeat_s":2,"secret":"s","kv_load_failure_policy":"fail"}}
            """#)
        #expect(c == KVTransferConfig(
            role: .consumer, engineId: "d1", host: "10.0.0.2", port: 5600, leaseSeconds: 12.5, heartbeatSeconds: 2, secret: "s",
            loadFailurePolicy: .fail))
        #expect(notes == [
            "kv_transfer_config.kv_connector: NixlConnector is served by BatonConnector",
            "kv_transfer_config.kv_buffer_device is not used by Baton (ignored)",
        ])
    }

    @Test func defaults() throws {
        let (c, notes) = try KVTransferConfig.parse(json: #"{"kv_connector":"BatonConnector","kv_role":"kv_both"}"#)
        #expect(c.role == .both && c.port == 14579 && c.leaseSeconds == 30 && c.heartbeatSeconds == 5)
        #expect(c.loadFailurePolicy == .recompute && c.secret == "" && !c.engineId.isEmpty)
        #expect(notes.isEmpty)
    }

    @Test(arguments: [
        (#"[]"#, "not a JSON object"),
        (#"{"kv_role":"kv_master"}"#, "kv_transfer_config.kv_role: 'kv_master'"),
        (#"{"kv_connector":"LMCacheConnector","kv_role":"kv_both"}"#, "kv_transfer_config.kv_connector: 'LMCacheConnector'"),
        (#"{"kv_connector":"BatonConnector"}"#, "kv_transfer_config.kv_role is required"),
        (#"{"kv_role":"kv_both","kv_port":"5600"}"#, "kv_transfer_config.kv_port: expected an integer"),
        (#"{"kv_role":"kv_both","kv_port":70000}"#, "kv_transfer_config.kv_port: expected an integer"),
        (#"{"kv_role":"kv_both","kv_port":true}"#, "kv_transfer_config.kv_port: expected an integer"),
        (#"{"kv_role":"kv_both","kv_connector_extra_config":{"lease_s":0}}"#, "kv_connector_extra_config.lease_s: expected a number"),
        (#"{"kv_role":"kv_both","kv_connector_extra_config":{"kv_load_failure_policy":"retry"}}"#, "kv_load_failure_policy: 'retry'"),
        (#"{"kv_role":"kv_both","kv_connector_extra_config":{"lease_s":2,"heartbeat_s":5}}"#, "heartbeat_s (5.0) must be shorter than lease_s"),
        (#"{"kv_role":"kv_both","kv_connector_extra_config":[1]}"#, "kv_transfer_config.kv_connector_extra_config: expected an object"),
    ])
    func badValuesNameTheirKey(json: String, message: String) {
        do {
            _ = try KVTransferConfig.parse(json: json)
            Issue.record("\(json) was accepted")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    @Test(arguments: [
        ("127.0.0.1", true), ("127.1.2.3", true), ("::1", true), ("[::1]", true), ("0:0:0:0:0:0:0:1", true),
        ("localhost", true), ("LOCALHOST", true), ("::ffff:127.0.0.1", true),
        ("0.0.0.0", false), ("::", false), ("192.168.1.20", false), ("10.0.0.2", false), ("kv.example.com", false),
        ("128.0.0.1", false), ("1::1", false),
    ])
    func aServerBeyondLoopbackNeedsASecret(host: String, loopback: Bool) {
        let open = KVTransferConfig(role: .producer, engineId: "p", host: host)
        switch open.secretCheck() {
        case .ok: Issue.record("\(host): no secret passed without a word")
        case .warn(let why): #expect(loopback, "\(host)"); #expect(why.contains("no secret"))
        case .refuse(let why): #expect(!loopback, "\(host)"); #expect(why.contains("--kv-secret") && why.contains(host))
        }
        var secret = open
        secret.secret = "s"
        #expect(secret.secretCheck() == .ok)
        // A consumer listens nowhere: nothing to protect.
        #expect(KVTransferConfig(role: .consumer, engineId: "c", host: host).secretCheck() == .ok)
        #expect(KVTransferConfig(role: .both, engineId: "b", host: host).secretCheck() != .ok)
    }
}
