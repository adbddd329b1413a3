// Why `baton bench` could not build its workload (e.g. a bad JSONL prompt file).

public struct BenchWorkloadError: Error, CustomStringConvertible {
    public let description: String
}
