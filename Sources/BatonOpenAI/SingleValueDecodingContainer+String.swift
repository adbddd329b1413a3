// Reading a JSON value that may be a string, for the fields that accept several kinds of value.

extension SingleValueDecodingContainer {
    /// The value if it is a string, nil if it is another kind of value. A string Foundation
    /// cannot read (invalid UTF-8, an unpaired surrogate) is an error, not another kind: a field
    /// that tries several kinds would otherwise report the last kind it tried.
    public func decodeStringIfString() throws -> String? {
        do {
            return try decode(String.self)
        } catch DecodingError.typeMismatch(_, _), DecodingError.valueNotFound(_, _) {
            return nil
        } catch let error as DecodingError {
            throw error
        } catch {
            throw DecodingError.dataCorrupted(.init(
                codingPath: codingPath, debugDescription: "not a valid string (invalid UTF-8 or an unpaired surrogate)", underlyingError: error))
        }
    }
}
