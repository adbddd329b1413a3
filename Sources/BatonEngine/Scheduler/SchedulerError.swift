// Why the scheduler refused a request at admission.

import BatonModel

public enum SchedulerError: Error, Equatable, CustomStringConvertible {
    case duplicateId(String)
    case queueFull(Int)
    case emptyPrompt
    case tooLong(prompt: Int, maxTokens: Int, context: Int)
    case exceedsPool(blocks: Int, pool: Int)

    public var description: String {
        switch self {
        case .duplicateId(let id): "a request with id '\(id)' is already running"
        case .queueFull(let n): "the waiting queue is full (\(n) requests)"
        case .emptyPrompt: "the prompt is empty"
        case .tooLong(let p, let m, let c):
            "this model's maximum context length is \(c) tokens; the prompt has \(p) tokens and max_tokens is \(m)"
        case .exceedsPool(let b, let pool): "the request needs \(b) KV blocks but the cache has only \(pool)"
        }
    }
}
