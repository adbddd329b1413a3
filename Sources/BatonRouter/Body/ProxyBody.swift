// The client's body and the two bodies the split path sends upstream (DESIGN.md, "Request
// lifecycle"):
//
//   prefill: the body with stream=false, max_tokens=1 (max_completion_tokens=1 if present),
//            stream_options and min_tokens removed,
//            kv_transfer_params={do_remote_decode:true, do_remote_prefill:false, remote_*:null}
//   decode:  the client's body with the prefill's kv_transfer_params, verbatim
//
// A client-supplied kv_transfer_params is removed first: clients cannot name blocks.

import BatonOpenAI
import Foundation

public struct ProxyBody: Sendable {
    /// The client's JSON object, kv_transfer_params removed.
    public private(set) var fields: [String: JSONValue]
    /// The bytes to forward on the local path: the client's own when nothing was removed.
    public let localBytes: Data

    /// The prompt's fields, decoded in the same pass as `fields`.
    public let prompt: PromptFields

    /// Both views of the body from one parse of its bytes.
    private struct Decoded: Decodable {
        var fields: [String: JSONValue]
        var prompt: PromptFields

        init(from decoder: any Decoder) throws {
            fields = try [String: JSONValue](from: decoder)
            prompt = try PromptFields(from: decoder)
        }
    }

    public init(_ data: Data) throws(APIError) {
        let decoded = try APIError.decodingBody(Decoded.self, from: data)
        var fields = decoded.fields
        prompt = decoded.prompt
        if fields.removeValue(forKey: "kv_transfer_params") != nil {
            self.fields = fields
            localBytes = Self.encode(fields)
        } else {
            self.fields = fields
            localBytes = data
        }
    }

    public var stream: Bool { fields["stream"]?.bool ?? false }
    /// The `user` field, a session key when no session header is given.
    public var user: String? { fields["user"]?.string }
    public var cacheSalt: String? { fields["cache_salt"]?.string }

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
        return Self.encode(f)
    }

    /// The body of the decode call: the client's, with the prefill's parameters as they came.
    public func decodeBytes(kvTransferParams: JSONValue) -> Data {
        var f = fields
        f["kv_transfer_params"] = kvTransferParams
        return Self.encode(f)
    }

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
