// The real default model for tests that need it: `BATON_MODEL`, else the model cache, where
// `baton model pull` (run by scripts/test.sh) puts it. Tests fail with a message saying so when
// it is absent, rather than skipping.

import BatonModel
import Foundation

public enum RealModel {
    public static var path: String {
        let env = ProcessInfo.processInfo.environment
        return env["BATON_MODEL"] ?? ModelCache.path(of: .smollm2, environment: env)
    }

    public static let file: GGUFFile? = try? GGUFFile(path: path)

    public static func require() throws -> GGUFFile {
        guard let file else {
            throw RealModelMissing(description: "the default model is not at \(path); run `baton model pull` (scripts/test.sh does)")
        }
        return file
    }
}
