// The repository holds itself together: nothing points outside it, and docs/architecture.md
// says what the code does — each target's Baton imports exactly as its table lists them, and
// every source file it names exists.

import Foundation
import Testing

/// The repository's root, from this file's place in it.
private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Every file under `dir` (relative paths), skipping build products, git and Python caches.
private func files(under dir: String = "") -> [String] {
    let base = dir.isEmpty ? root : root.appendingPathComponent(dir)
    guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
    var out: [String] = []
    let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
    for case let url as URL in walker {
        let name = url.lastPathComponent
        if name == ".git" || name.hasPrefix(".build") || name == "__pycache__" || name == ".swiftpm" {
            walker.skipDescendants()
            continue
        }
        guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
        out.append(String(url.path.dropFirst(prefix.count)))
    }
    return out.sorted()
}

private func read(_ path: String) -> String? {
    try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
}

@Suite struct RepositoryTests {
    /// A clone has nothing beside it: no file may send a reader to the team's shared folder
    /// beside the checkout, or to the design and style documents that live there.
    @Test func nothingPointsOutsideTheRepository() throws {
        let outside = ["../" + "shared", "DESIGN" + ".md", "STYLE" + ".md", "/work/" + "shared"]
        var found: [String] = []
        for path in files() {
            guard let text = read(path) else { continue }  // binary
            for needle in outside where text.contains(needle) { found.append("\(path): \(needle)") }
        }
        #expect(found.isEmpty, "\(found)")
    }

    /// The architecture's target table: target → the Baton targets it imports.
    static func documentedImports() throws -> [String: Set<String>] {
        let doc = try #require(read("docs/architecture.md"))
        var table: [String: Set<String>] = [:]
        for line in doc.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5 else { continue }
            let target = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            guard FileManager.default.fileExists(atPath: root.appendingPathComponent("Sources/\(target)").path) else { continue }
            let named = cells[3].split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
            table[target] = Set(named.filter { $0.hasPrefix("Baton") })
        }
        return table
    }

    @Test func eachTargetImportsWhatTheArchitectureSays() throws {
        let documented = try Self.documentedImports()
        let targets = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources").path)
        for target in targets.sorted() {
            var imported = Set<String>()
            for path in files(under: "Sources/\(target)") where path.hasSuffix(".swift") {
                for line in (read(path) ?? "").split(separator: "\n") {
                    let words = line.split(separator: " ")
                    guard let i = words.firstIndex(of: "import"), i + 1 < words.count,
                          words[..<i].allSatisfy({ $0.hasPrefix("@") }) else { continue }
                    let module = String(words[i + 1])
                    if module.hasPrefix("Baton") { imported.insert(module) }
                }
            }
            let listed = try #require(documented[target], "docs/architecture.md lists no row for target \(target)")
            #expect(imported == listed, "\(target) imports \(imported.sorted()), docs/architecture.md says \(listed.sorted())")
        }
        // The router knows engines only by HTTP.
        #expect(documented["BatonRouter"]?.isDisjoint(with: ["BatonEngine", "BatonKVTransfer", "BatonServer"]) == true)
    }

    /// Every Swift or Python file the architecture names exists: by its path from the root, or
    /// by its path's tail under Sources/, Tests/ or scripts/ (`FastLane+Plan.swift`).
    @Test func everyFileTheArchitectureNamesExists() throws {
        let doc = try #require(read("docs/architecture.md"))
        let all = files()
        let named = doc.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
            .filter { $0.hasSuffix(".swift") || $0.hasSuffix(".py") || $0.hasSuffix(".c") }
        #expect(named.count >= 20, "the request's path names its files")
        for name in named {
            let found = all.contains { $0 == name || $0.hasSuffix("/" + name) }
            #expect(found, "docs/architecture.md names \(name), which is not in the repository")
        }
    }

    /// Every top-level public type declared under Sources/: its kind, name and file.
    static func publicTypes() -> [(path: String, kind: String, name: String)] {
        var found: [(path: String, kind: String, name: String)] = []
        for path in files(under: "Sources") where path.hasSuffix(".swift") {
            for line in (read(path) ?? "").split(separator: "\n") where line.hasPrefix("public ") {
                var words = line.split(separator: " ").dropFirst()
                while let w = words.first, ["final", "indirect"].contains(w) { words = words.dropFirst() }
                guard let kind = words.first, ["struct", "enum", "class", "protocol", "actor"].contains(String(kind)),
                      let name = words.dropFirst().first?.prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
                found.append((path, String(kind), String(name)))
            }
        }
        return found
    }

    /// Each public type lives in a file named for it (`Name.swift`, or `Name+Aspect.swift` when
    /// the file holds it with an aspect), so a reader finds a type by its name.
    @Test func eachPublicTypeLivesInAFileNamedForIt() throws {
        let types = Self.publicTypes()
        #expect(types.count > 100, "the scan found the public types")
        let misplaced = types.filter { t in
            let file = (t.path as NSString).lastPathComponent.dropLast(".swift".count)
            return t.name != file.split(separator: "+", maxSplits: 1).first.map(String.init)
        }.map { "\($0.path): \($0.kind) \($0.name)" }
        #expect(misplaced.isEmpty, "\(misplaced.count) public types in files named for another: \(misplaced)")
    }

    /// A public type has one definition across the targets (there were two `FinishReason`s, and
    /// `BatonDeploy` had its own `KVRole` and `KVTransferConfig` with other case names).
    @Test func eachPublicTypeIsDefinedOnce() throws {
        let defined = Dictionary(grouping: Self.publicTypes(), by: \.name).filter { $0.value.count > 1 }
        #expect(defined.isEmpty, "defined more than once: \(defined.mapValues { $0.map(\.path) })")
    }
}
