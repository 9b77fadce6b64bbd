namespace Reasoner.Models.Gguf;

// Constants of the GGUF format, version 3 (ggml/docs/gguf.md): a little-endian file of
//   header:       magic "GGUF" (uint32 0x46554747), version (uint32), tensor count (uint64), metadata KV count (uint64)
//   metadata:     KV pairs: key (gguf string = uint64 byte length + UTF-8), value type (uint32), value
//   tensor infos: name (gguf string), n_dims (uint32), dims (uint64 each, innermost first), ggml type (uint32),
//                 offset (uint64, relative to the data section, a multiple of the alignment)
//   padding to general.alignment (default 32), then the tensor data, each tensor padded to the alignment.

/// <summary>Metadata value types (gguf_type).</summary>
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>Tensor element types (ggml_type); only the unquantized float types are written.</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
}

/// <summary>tokenizer.ggml.token_type values (llama_token_type / gguf-py TokenType).</summary>
public enum GgufTokenType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

public static class GgufFormat
{
    public const uint Magic = 0x46554747; // "GGUF" read as a little-endian uint32
    public const uint Version = 3;
    public const uint DefaultAlignment = 32;

    public static long ElementSize(GgmlType type) => type switch
    {
        GgmlType.F32 => 4,
        GgmlType.F16 => 2,
        _ => throw new NotSupportedException($"ggml type {type} is not supported"),
    };

    public static long AlignUp(long offset, long alignment) => (offset + alignment - 1) / alignment * alignment;
}

/// <summary>One tensor's entry in the tensor-info table. <see cref="Dims"/> are in GGUF order: innermost (contiguous) first,
/// the reverse of a PyTorch shape, so a [out, in] linear weight has dims [in, out].</summary>
public sealed record GgufTensorInfo(string Name, IReadOnlyList<long> Dims, GgmlType Type, long Offset)
{
    public long ElementCount => Dims.Aggregate(1L, (a, b) => a * b);

    public long ByteSize => ElementCount * GgufFormat.ElementSize(Type);
}
