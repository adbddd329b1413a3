// What ScriptRunner throws when a program cannot be run or fails.

public struct ScriptError: Error, CustomStringConvertible {
    public let description: String
}
