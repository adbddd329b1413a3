// The reference fixtures beside these tests (the real model itself is BatonTesting's RealModel).

import BatonTesting
import Foundation

extension RealModel {
    static func fixture<T: Decodable>(_ name: String, as: T.Type) throws -> T {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }
}
