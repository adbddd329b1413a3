// A position in Yams' `Node` tree that knows its key path, reads typed values with errors naming
// that path, and reports the keys of a mapping nobody asked for. The loader walks the tree by
// hand (not Codable) so that every error and every ignored key carries its exact path.

import Yams

/// Collects the ignored-key notes of one load, in document order.
final class IgnoredKeys {
    private(set) var notes: [IgnoredKey] = []

    func add(_ path: String, _ reason: String) {
        guard !notes.contains(where: { $0.path == path }) else { return }
        notes.append(IgnoredKey(path: path, reason: reason))
    }
}

/// One node with its path. Reading a value that has the wrong type throws a `ConfigError`
/// naming `path`.
struct YAMLCursor {
    let node: Node
    let path: String
    let ignored: IgnoredKeys

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func fail(_ message: String) -> ConfigError { ConfigError(path: path, message: message) }

    var isNull: Bool {
        guard case .scalar(let s) = node else { return false }
        return node.tag.rawValue == Tag.Name.null.rawValue && s.style != .singleQuoted && s.style != .doubleQuoted
    }

    func string() throws -> String {
        guard case .scalar(let s) = node, !isNull else { throw fail("expected a string") }
        return s.string
    }

    func int() throws -> Int {
        guard case .scalar = node, node.tag.rawValue == Tag.Name.int.rawValue, let value = node.int else {
            throw fail("expected an integer")
        }
        return value
    }

    func double() throws -> Double {
        guard case .scalar = node, node.tag.rawValue == Tag.Name.int.rawValue || node.tag.rawValue == Tag.Name.float.rawValue,
              let value = node.float, value.isFinite
        else { throw fail("expected a number") }
        return value
    }

    func bool() throws -> Bool {
        guard case .scalar = node, node.tag.rawValue == Tag.Name.bool.rawValue, let value = node.bool else {
            throw fail("expected true or false")
        }
        return value
    }

    func sequence() throws -> [YAMLCursor] {
        guard case .sequence(let seq) = node else { throw fail("expected a list") }
        return seq.enumerated().map { YAMLCursor(node: $1, path: "\(path)[\($0)]", ignored: ignored) }
    }

    func mapping() throws -> YAMLMapping {
        guard case .mapping(let map) = node else { throw fail("expected a mapping") }
        var entries: [(String, Node)] = []
        for (key, value) in map {
            guard case .scalar(let k) = key else { throw fail("keys must be strings") }
            if entries.contains(where: { $0.0 == k.string }) { throw fail("duplicate key '\(k.string)'") }
            entries.append((k.string, value))
        }
        return YAMLMapping(entries: entries, cursor: self)
    }

    // A non-negative integer, e.g. a replica count.
    func int(atLeast low: Int) throws -> Int {
        let value = try int()
        guard value >= low else { throw fail("must be ≥ \(low) (got \(value))") }
        return value
    }

    func double(greaterThan low: Double) throws -> Double {
        let value = try double()
        guard value > low else { throw fail("must be > \(formatNumber(low)) (got \(formatNumber(value)))") }
        return value
    }

    /// Seconds up to a year (a larger value is a typo, and would overflow a Duration).
    func seconds(atLeast low: Double = 0) throws -> Duration {
        let value = try double()
        guard value >= low else { throw fail("must be ≥ \(formatNumber(low)) seconds (got \(formatNumber(value)))") }
        guard value <= 31_536_000 else { throw fail("must be at most a year in seconds (got \(formatNumber(value)))") }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    func oneOf(_ choices: [String]) throws -> String {
        let value = try string()
        guard choices.contains(value) else {
            throw fail("expected one of \(choices.joined(separator: ", ")) (got '\(value)')")
        }
        return value
    }

    func oneOf<E: RawRepresentable & CaseIterable>(_ type: E.Type) throws -> E where E.RawValue == String {
        let value = try string()
        guard let choice = E(rawValue: value) else {
            throw fail("expected one of \(E.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(value)')")
        }
        return choice
    }
}

/// A mapping being read: each `take` marks a key as used; `finish` reports the rest as ignored
/// (unknown keys at a known level), or, with `known` reasons, as keys Baton knowingly skips.
final class YAMLMapping {
    private let entries: [(String, Node)]
    private var used: Set<String> = []
    let cursor: YAMLCursor

    init(entries: [(String, Node)], cursor: YAMLCursor) {
        self.entries = entries
        self.cursor = cursor
    }

    var keys: [String] { entries.map(\.0) }

    /// The value at `key`, or nil when absent or null (YAML `key:` with nothing after it).
    func take(_ key: String) -> YAMLCursor? {
        used.insert(key)
        guard let node = entries.first(where: { $0.0 == key })?.1 else { return nil }
        let value = YAMLCursor(node: node, path: cursor.child(key), ignored: cursor.ignored)
        return value.isNull ? nil : value
    }

    /// Marks `key` as read but unused, with the reason shown to the user.
    func ignore(_ key: String, _ reason: String) {
        guard let value = take(key) else { return }
        cursor.ignored.add(value.path, reason)
    }

    /// Every key not taken so far is reported as ignored: `reasons[key]` when Baton knows the key,
    /// `unknown` otherwise.
    func finish(reasons: [String: String] = [:], unknown: String = "unknown key") {
        for (key, _) in entries where !used.contains(key) {
            cursor.ignored.add(cursor.child(key), reasons[key] ?? unknown)
        }
    }
}

/// `2` for 2.0, `0.5` for 0.5: numbers in messages and plans as a user would write them.
func formatNumber(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return String(value)
}
