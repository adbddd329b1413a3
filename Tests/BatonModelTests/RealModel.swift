// Locating the real default model and the reference fixtures for the tests that use them.
// The model comes from `baton model pull` (the test script runs it first); tests that need it
// fail with a message saying so when it is absent, rather than skipping.

import Foundation
@testable import BatonModel

enum RealModel {
    static var path: String {
        let env = ProcessInfo.processInfo.environment
        return env["BATON_MODEL"] ?? ModelCache.path(of: .smollm2, environment: env)
    }

    static let file: GGUFFile? = try? GGUFFile(path: path)

    static func require() throws -> GGUFFile {
        guard let file else {
            throw RealModelMissing(description: "the default model is not at \(path); run `baton model pull` (scripts/test.sh does)")
        }
        return file
    }

    static func fixture<T: Decodable>(_ name: String, as: T.Type) throws -> T {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }
}

struct RealModelMissing: Error, CustomStringConvertible { let description: String }
