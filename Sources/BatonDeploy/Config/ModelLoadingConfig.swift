// Ray Serve's `model_loading_config`: the model's id and where its weights come from.

/// `model_loading_config`.
public struct ModelLoadingConfig: Sendable, Equatable {
    /// The name clients use in `"model"`.
    public var modelID: String
    /// What the engines load: `smollm2` (pulled on first use) or a GGUF path. Ray Serve's default
    /// when absent: the `model_id`.
    public var modelSource: String

    public init(modelID: String, modelSource: String? = nil) {
        self.modelID = modelID
        self.modelSource = modelSource ?? modelID
    }
}
