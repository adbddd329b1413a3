import Testing
@testable import BatonModel

@Suite struct ModelCatalogTests {
    @Test func cacheFollowsBatonHomeThenHome() {
        #expect(ModelCache.directory(environment: ["BATON_HOME": "/b", "HOME": "/h"]) == "/b/models")
        #expect(ModelCache.directory(environment: ["HOME": "/h"]) == "/h/.cache/baton/models")
        #expect(ModelCache.path(of: .smollm2, environment: ["BATON_HOME": "/b"]) == "/b/models/SmolLM2-135M-Instruct.Q4_1.gguf")
        #expect(KnownModel.named("smollm2") == .smollm2)
        #expect(KnownModel.named("llama") == nil)
    }
}
