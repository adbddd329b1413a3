// Why a chat prompt cannot be rendered: a template family Baton does not know, or messages
// it cannot take.

public enum ChatTemplateError: Error, CustomStringConvertible, Equatable {
    case missing
    case unsupported(excerpt: String)

    public var description: String {
        switch self {
        case .missing: "model file has no chat template (tokenizer.chat_template)"
        case .unsupported(let e): "the model's chat template is not one Baton understands (supported: ChatML); it begins: \(e)"
        }
    }
}
