// `baton model pull [smollm2]`.

import ArgumentParser
import BatonModel

struct Model: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the model cache ($BATON_HOME/models, default ~/.cache/baton/models).",
        subcommands: [Pull.self]
    )

    struct Pull: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fetch a known model into the cache; prints its path last.")

        @Argument(help: "The model to fetch.")
        var name: String = "smollm2"

        func run() throws {
            guard let known = KnownModel.named(name) else {
                throw ValidationError("unknown model '\(name)' (known: \(KnownModel.all.map(\.name).joined(separator: ", ")))")
            }
            print(try ModelStore.fromEnvironment().pull(known))
        }
    }
}
