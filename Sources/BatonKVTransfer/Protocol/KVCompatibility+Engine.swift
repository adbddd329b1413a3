// An engine's compatibility record: its model file's fingerprint and its KV layout. Two
// engines can exchange blocks only if these are equal.

import BatonEngine
import BatonModel
import Crypto
import Foundation

extension KVCompatibility {
    /// The record of an engine serving `model` with `config`'s KV cache.
    public init(modelFingerprint: String, model: LlamaConfiguration, config: EngineConfig) {
        self.init(
            modelFingerprint: modelFingerprint, dtype: config.kvCacheDType.rawValue, layers: model.layerCount,
            kvHeads: model.kvHeadCount, headSize: model.headDim, blockSize: config.blockSize)
    }

    /// Lowercase hex SHA-256 of the file at `path` (the GGUF: weights, tokenizer and all).
    public static func fingerprint(ofFileAt path: String) throws -> String {
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? file.close() }
        var hash = SHA256()
        while let chunk = try file.read(upToCount: 8 << 20), !chunk.isEmpty { hash.update(data: chunk) }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
