// The `baton` command line: maps flags to configuration and runs the parts.

import ArgumentParser

@main
struct Baton: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baton",
        abstract: "Prefill/decode disaggregated LLM serving.",
        subcommands: [Serve.self, Status.self, Bench.self, Engine.self, RouterCommand.self, Generate.self, Tokenize.self, Model.self]
    )
}

/// `--model`: `smollm2` (the default model, pulled on demand) or a GGUF path.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model: 'smollm2' (pulled on first use) or a path to a GGUF file.")
    var model: String = "smollm2"

    func resolvedPath() throws -> String {
        try ModelStore.fromEnvironment().resolve(model)
    }
}
