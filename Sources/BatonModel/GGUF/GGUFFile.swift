// The GGUF container: header, metadata, tensor infos, and the aligned tensor data they point

import BatonKernels
// into. Every count, offset and length is checked against the file's size before use, so a
// truncated, corrupt or hostile file gives a `GGUFError`, never a crash or a huge allocation.
//
//   magic "GGUF" u32 | version u32 | tensor_count u64 | kv_count u64
//   kv_count × (key: string, type: u32, value)
//   tensor_count × (name: string, n_dims: u32, dims: n_dims × u64, type: u32, offset: u64)
//   padding to general.alignment (default 32) | tensor data

/// A parsed GGUF file whose tensor data stays in the mapping.
public struct GGUFFile: Sendable {
    public let storage: MappedFile
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    public let tensorsByName: [String: GGUFTensorInfo]
    public let alignment: Int
    /// Offset of the data section from the start of the file.
    public let dataOffset: Int

    /// Maps and parses the file at `path`.
    public init(path: String) throws(GGUFError) {
        try self.init(storage: MappedFile(path: path))
    }

    /// Parses a file already in memory.
    public init(storage: MappedFile) throws(GGUFError) {
        self.storage = storage
        var cursor = GGUFCursor(base: storage.base, count: storage.count)
        let magic = try cursor.read(UInt32.self, "magic")
        guard magic == 0x4655_4747 else { throw .badMagic(found: magic) }
        version = try cursor.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }
        // A tensor info is at least 32 bytes; a key-value pair at least 13.
        let tensorCount = try cursor.read(UInt64.self, "tensor count")
        let kvCount = try cursor.readCount("metadata count", minimumSize: 13)
        let tensorLimit = UInt64(cursor.remaining / 32)
        guard tensorCount <= tensorLimit else {
            throw .absurdCount(what: "tensor count", count: tensorCount, limit: tensorLimit)
        }

        var metadata: [String: GGUFValue] = [:]
        metadata.reserveCapacity(kvCount)
        for index in 0..<kvCount {
            let key = try cursor.readString("metadata key #\(index)")
            let rawType = try cursor.read(UInt32.self, "type of '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else { throw .badValueType(key: key, type: rawType) }
            let value = try Self.readValue(&cursor, type: type, key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else { throw .duplicateKey(key) }
        }
        self.metadata = metadata

        let alignmentValue = metadata["general.alignment"]?.intValue ?? 32
        guard alignmentValue >= 1, alignmentValue <= 65536, alignmentValue & (alignmentValue - 1) == 0 else {
            throw .badAlignment(UInt64(clamping: alignmentValue))
        }
        alignment = alignmentValue

        struct RawTensor { var name: String; var shape: [Int]; var type: QuantType; var offset: UInt64 }
        var raw: [RawTensor] = []
        raw.reserveCapacity(Int(tensorCount))
        for index in 0..<Int(tensorCount) {
            let name = try cursor.readString("name of tensor #\(index)")
            let dims = try cursor.read(UInt32.self, "dimension count of '\(name)'")
            guard (1...4).contains(dims) else {
                throw .badTensorShape(tensor: name, reason: "\(dims) dimensions (expected 1 to 4)")
            }
            var shape: [Int] = []
            for d in 0..<Int(dims) {
                let n = try cursor.read(UInt64.self, "dimension \(d) of '\(name)'")
                guard n >= 1, n <= 1 << 40 else {
                    throw .badTensorShape(tensor: name, reason: "dimension \(d) is \(n)")
                }
                shape.append(Int(n))
            }
            let rawType = try cursor.read(UInt32.self, "type of '\(name)'")
            guard let type = QuantType(rawValue: rawType) else {
                throw .unsupportedTensorType(tensor: name, type: rawType, name: ggmlTypeName(rawType))
            }
            let offset = try cursor.read(UInt64.self, "offset of '\(name)'")
            raw.append(RawTensor(name: name, shape: shape, type: type, offset: offset))
        }

        let dataStart = (cursor.offset + alignmentValue - 1) / alignmentValue * alignmentValue
        guard dataStart <= storage.count else {
            throw .truncated(what: "data section", offset: cursor.offset, needed: dataStart - cursor.offset, fileSize: storage.count)
        }
        dataOffset = dataStart
        let dataSize = UInt64(storage.count - dataStart)

        var infos: [GGUFTensorInfo] = []
        var byName: [String: GGUFTensorInfo] = [:]
        for t in raw {
            guard t.shape[0] % t.type.blockSize == 0 else {
                throw .badTensorShape(tensor: t.name, reason: "row length \(t.shape[0]) is not a multiple of \(t.type)'s block size \(t.type.blockSize)")
            }
            var bytes = UInt64(t.type.rowBytes(t.shape[0]))
            for n in t.shape.dropFirst() {
                let (product, overflow) = bytes.multipliedReportingOverflow(by: UInt64(n))
                guard !overflow, product <= dataSize else {
                    throw .tensorOutOfBounds(tensor: t.name, offset: t.offset, size: overflow ? .max : product, dataSize: dataSize)
                }
                bytes = product
            }
            guard t.offset % UInt64(alignmentValue) == 0 else {
                throw .misalignedTensor(tensor: t.name, offset: t.offset, alignment: alignmentValue)
            }
            guard t.offset <= dataSize, bytes <= dataSize - t.offset else {
                throw .tensorOutOfBounds(tensor: t.name, offset: t.offset, size: bytes, dataSize: dataSize)
            }
            let info = GGUFTensorInfo(name: t.name, shape: t.shape, type: t.type, offset: Int(t.offset), byteCount: Int(bytes))
            guard byName.updateValue(info, forKey: t.name) == nil else { throw .duplicateTensor(t.name) }
            infos.append(info)
        }
        tensors = infos
        tensorsByName = byName
    }

    /// The bytes of a tensor, inside the mapping.
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawPointer {
        storage.base + dataOffset + tensor.offset
    }

    private static func readValue(
        _ cursor: inout GGUFCursor, type: GGUFValueType, key: String, depth: Int
    ) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint(UInt64(try cursor.read(UInt8.self, key)))
        case .int8: return .int(Int64(try cursor.read(Int8.self, key)))
        case .uint16: return .uint(UInt64(try cursor.read(UInt16.self, key)))
        case .int16: return .int(Int64(try cursor.read(Int16.self, key)))
        case .uint32: return .uint(UInt64(try cursor.read(UInt32.self, key)))
        case .int32: return .int(Int64(try cursor.read(Int32.self, key)))
        case .uint64: return .uint(try cursor.read(UInt64.self, key))
        case .int64: return .int(try cursor.read(Int64.self, key))
        case .float32: return .float(Double(Float(bitPattern: try cursor.read(UInt32.self, key))))
        case .float64: return .float(Double(bitPattern: try cursor.read(UInt64.self, key)))
        case .bool:
            let b = try cursor.read(UInt8.self, key)
            return .bool(b != 0)
        case .string: return .string(try cursor.readString("value of '\(key)'"))
        case .array:
            guard depth < 2 else { throw .nestingTooDeep(key: key) }
            let rawType = try cursor.read(UInt32.self, "element type of '\(key)'")
            guard let elementType = GGUFValueType(rawValue: rawType) else { throw .badValueType(key: key, type: rawType) }
            let count = try cursor.readCount("element count of '\(key)'", minimumSize: elementType.minimumSize)
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count {
                items.append(try readValue(&cursor, type: elementType, key: key, depth: depth + 1))
            }
            return .array(items)
        }
    }
}
