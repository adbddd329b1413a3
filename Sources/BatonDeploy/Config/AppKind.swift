// Which Ray Serve builder an application names in `import_path`: a PD app or a collocated pool.

/// Which Ray Serve builder the application names in `import_path`.
public enum AppKind: String, Sendable, Equatable {
    /// `ray.serve.llm:build_pd_openai_app`: a prefill pool and a decode pool behind the router.
    case pd = "ray.serve.llm:build_pd_openai_app"
    /// `ray.serve.llm:build_openai_app`: one pool of `kv_both` engines, every request on the
    /// router's local path.
    case openai = "ray.serve.llm:build_openai_app"
}
