// A metadata value for GGUFWriter to write.

/// A metadata value to write.
public enum GGUFWriteValue {
    case u32(UInt32), i32(Int32), u64(UInt64), f32(Float), bool(Bool), string(String)
    case strings([String]), i32s([Int32]), f32s([Float])
}
