// A tokenizer in the router's process that answers without waiting (the fast lane's).

import BatonModel

/// A tokenizer in the router's process, which answers without waiting: the fast lane calls it on
/// an event loop, with that loop's cache of pieces already merged.
public protocol LocalTokenizing: PromptTokenizer {
    func tokensNow(_ source: PromptFields.Source, cache: inout BPECache) throws -> [Int32]
}
