// The client's body and the two bodies the split path sends upstream (docs/architecture.md):
//
//   prefill: the body with stream=false, max_tokens=1 (max_completion_tokens=1 if present),
//            stream_options and min_tokens removed,
//            kv_transfer_params={do_remote_decode:true, do_remote_prefill:false, remote_*:null}
//   decode:  the client's body with the prefill's kv_transfer_params, verbatim
//
// A client-supplied kv_transfer_params is removed first: clients cannot name blocks.
//
// The body is decoded once, for the fields routing reads (prompt or messages, stream, user,
// cache_salt), by whichever lane takes the request first; the fast lane hands it on to the slow
// path with the request (Handoff.swift). The whole tree is decoded only to rewrite the body:
// for a split's two calls, or to strip a client's kv_transfer_params.

import BatonOpenAI
import Foundation

public struct ProxyBody: Sendable {
    /// The client's bytes.
    public let bytes: Data
    /// The bytes to forward on the local path: the client's own when nothing was removed.
    public let localBytes: Data
    /// The prompt's fields.
    public let prompt: PromptFields
    public let stream: Bool
    /// The `user` field, a session key when no session header is given.
    public let user: String?
    public let cacheSalt: String?
    /// The client sent a `kv_transfer_params` (removed from every body sent upstream).
    public let hadTransferParams: Bool

    /// The fields routing reads, in one keyed container (JSONDecoder indexes an object's keys
    /// per container).
    private struct Routing: Decodable {
        var prompt: PromptFields
        var stream: Bool
        var user: String?
        var cacheSalt: String?
        var hasTransferParams: Bool

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: PromptFields.BodyKeys.self)
            stream = (try? c.decodeIfPresent(Bool.self, forKey: .stream)) ?? false
            user = (try? c.decodeIfPresent(String.self, forKey: .user)) ?? nil
            cacheSalt = (try? c.decodeIfPresent(String.self, forKey: .cacheSalt)) ?? nil
            hasTransferParams = c.contains(.kvTransferParams)
            prompt = try PromptFields(c)
        }
    }

    /// `decoder`: the caller's (the fast lane keeps one per event loop).
    public init(_ data: Data, decoder: JSONDecoder = JSONDecoder()) throws(APIError) {
        let routing = try APIError.decodingBody(Routing.self, from: data, decoder: decoder)
        bytes = data
        prompt = routing.prompt
        stream = routing.stream
        user = routing.user
        cacheSalt = routing.cacheSalt
        hadTransferParams = routing.hasTransferParams
        localBytes = hadTransferParams ? Self.encode(try Self.tree(data)) : data
    }

    /// The client's JSON object, kv_transfer_params removed (decoded from the bytes on each call).
    public var fields: [String: JSONValue] {
        get throws(APIError) { try Self.tree(bytes) }
    }

    private static func tree(_ data: Data) throws(APIError) -> [String: JSONValue] {
        var fields = try APIError.decodingBody([String: JSONValue].self, from: data)
        fields.removeValue(forKey: "kv_transfer_params")
        return fields
    }

    /// The bodies of a split's two calls, from one decode of the tree.
    public struct Split: Sendable {
        let fields: [String: JSONValue]

        /// The body of the prefill call.
        public func prefillBytes() -> Data {
            var f = fields
            f["stream"] = .bool(false)
            f["max_tokens"] = .int(1)
            if f["max_completion_tokens"] != nil { f["max_completion_tokens"] = .int(1) }
            f.removeValue(forKey: "stream_options")
            f.removeValue(forKey: "min_tokens")
            f["kv_transfer_params"] = .object([
                "do_remote_decode": .bool(true), "do_remote_prefill": .bool(false),
                "remote_engine_id": .null, "remote_block_ids": .null, "remote_host": .null, "remote_port": .null,
            ])
            return ProxyBody.encode(f)
        }

        /// The body of the decode call: the client's, with the prefill's parameters as they came.
        public func decodeBytes(kvTransferParams: JSONValue) -> Data {
            var f = fields
            f["kv_transfer_params"] = kvTransferParams
            return ProxyBody.encode(f)
        }
    }

    public func split() throws(APIError) -> Split { Split(fields: try fields) }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }()

    static func encode(_ fields: [String: JSONValue]) -> Data {
        // Encoding a tree of JSON values cannot fail (no non-finite doubles come from JSON).
        (try? encoder.encode(JSONValue.object(fields))) ?? Data("{}".utf8)
    }
}
