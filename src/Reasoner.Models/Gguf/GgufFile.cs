using System.Text;

namespace Reasoner.Models.Gguf;

/// <summary>
/// The header, metadata and tensor table of a GGUF file (any version 2 or 3 file with unquantized or quantized
/// tensors; only F32/F16 tensor data can be read back as floats). Metadata values come back as the CLR types
/// <see cref="GgufWriter"/> takes: byte, sbyte, ushort, short, uint, int, float, bool, string, ulong, long, double,
/// or a typed array of those.
/// </summary>
public sealed class GgufFile
{
    // Far above anything real; a corrupt length then fails with a clear message instead of an allocation error.
    private const ulong MaxCount = 1UL << 32;

    public string Path { get; }
    public uint Version { get; }
    public IReadOnlyDictionary<string, object> Metadata { get; }
    /// <summary>Metadata keys in file order.</summary>
    public IReadOnlyList<string> Keys { get; }
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }
    public long DataOffset { get; }
    public uint Alignment { get; }

    private GgufFile(string path, uint version, List<string> keys, Dictionary<string, object> metadata,
        List<GgufTensorInfo> tensors, long dataOffset, uint alignment)
    {
        Path = path;
        Version = version;
        Keys = keys;
        Metadata = metadata;
        Tensors = tensors;
        DataOffset = dataOffset;
        Alignment = alignment;
    }

    public GgufTensorInfo Tensor(string name) =>
        Tensors.FirstOrDefault(t => t.Name == name) ?? throw new KeyNotFoundException($"{Path} has no tensor '{name}'");

    public T Get<T>(string key) => Metadata.TryGetValue(key, out var v)
        ? v is T typed ? typed : throw new InvalidDataException($"{Path}: metadata '{key}' is {v.GetType().Name}, not {typeof(T).Name}")
        : throw new KeyNotFoundException($"{Path} has no metadata '{key}'");

    public static GgufFile Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var r = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            if (r.ReadUInt32() != GgufFormat.Magic) throw new InvalidDataException($"{path} is not a GGUF file (bad magic)");
            uint version = r.ReadUInt32();
            if (version is not (2 or 3)) throw new NotSupportedException($"{path}: GGUF version {version} is not supported (supported: 2, 3)");
            ulong tensorCount = Count(r, path), kvCount = Count(r, path);

            var keys = new List<string>();
            var metadata = new Dictionary<string, object>();
            for (ulong i = 0; i < kvCount; i++)
            {
                string key = ReadString(r, path);
                var type = (GgufValueType)r.ReadUInt32();
                if (!metadata.TryAdd(key, ReadValue(r, type, path))) throw new InvalidDataException($"{path}: metadata key '{key}' appears twice");
                keys.Add(key);
            }
            uint alignment = metadata.TryGetValue(GgufWriter.AlignmentKey, out var a) && a is uint u ? u : GgufFormat.DefaultAlignment;

            var tensors = new List<GgufTensorInfo>();
            for (ulong i = 0; i < tensorCount; i++)
            {
                string name = ReadString(r, path);
                uint nDims = r.ReadUInt32();
                if (nDims is 0 or > 4) throw new InvalidDataException($"{path}: tensor '{name}' has {nDims} dimensions (GGML_MAX_DIMS is 4)");
                var dims = new long[nDims];
                for (int d = 0; d < nDims; d++) dims[d] = checked((long)r.ReadUInt64());
                var type = (GgmlType)r.ReadUInt32();
                long offset = checked((long)r.ReadUInt64());
                if (offset % alignment != 0) throw new InvalidDataException($"{path}: tensor '{name}' offset {offset} is not a multiple of the alignment {alignment}");
                tensors.Add(new GgufTensorInfo(name, dims, type, offset));
            }
            long dataOffset = GgufFormat.AlignUp(stream.Position, alignment);
            return new GgufFile(path, version, keys, metadata, tensors, dataOffset, alignment);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path}: GGUF header is truncated", e);
        }
    }

    /// <summary>A tensor's elements as float32, row-major (PyTorch order); F32 and F16 tensors only.</summary>
    public float[] ReadFloats(string name)
    {
        var info = Tensor(name);
        using var stream = File.OpenRead(Path);
        stream.Position = DataOffset + info.Offset;
        using var r = new BinaryReader(stream);
        var values = new float[info.ElementCount];
        for (long i = 0; i < values.Length; i++)
            values[i] = info.Type switch
            {
                GgmlType.F32 => r.ReadSingle(),
                GgmlType.F16 => (float)r.ReadHalf(),
                _ => throw new NotSupportedException($"{Path}: tensor '{name}' has ggml type {(uint)info.Type}; only F32 and F16 can be read"),
            };
        return values;
    }

    private static ulong Count(BinaryReader r, string path)
    {
        ulong n = r.ReadUInt64();
        return n <= MaxCount ? n : throw new InvalidDataException($"{path}: count {n} is implausible (corrupt file?)");
    }

    private static string ReadString(BinaryReader r, string path)
    {
        ulong length = r.ReadUInt64();
        if (length > int.MaxValue) throw new InvalidDataException($"{path}: string length {length} is implausible (corrupt file?)");
        var bytes = r.ReadBytes((int)length);
        if (bytes.Length != (int)length) throw new EndOfStreamException();
        return Encoding.UTF8.GetString(bytes);
    }

    private static object ReadValue(BinaryReader r, GgufValueType type, string path) => type switch
    {
        GgufValueType.UInt8 => r.ReadByte(),
        GgufValueType.Int8 => r.ReadSByte(),
        GgufValueType.UInt16 => r.ReadUInt16(),
        GgufValueType.Int16 => r.ReadInt16(),
        GgufValueType.UInt32 => r.ReadUInt32(),
        GgufValueType.Int32 => r.ReadInt32(),
        GgufValueType.Float32 => r.ReadSingle(),
        GgufValueType.Bool => r.ReadByte() != 0,
        GgufValueType.String => ReadString(r, path),
        GgufValueType.UInt64 => r.ReadUInt64(),
        GgufValueType.Int64 => r.ReadInt64(),
        GgufValueType.Float64 => r.ReadDouble(),
        GgufValueType.Array => ReadArray(r, path),
        _ => throw new InvalidDataException($"{path}: unknown metadata value type {(uint)type}"),
    };

    private static Array ReadArray(BinaryReader r, string path)
    {
        var elementType = (GgufValueType)r.ReadUInt32();
        int n = checked((int)Count(r, path));
        Array Fill<T>(Func<T> read)
        {
            var items = new T[n];
            for (int i = 0; i < n; i++) items[i] = read();
            return items;
        }
        return elementType switch
        {
            GgufValueType.UInt8 => Fill(r.ReadByte),
            GgufValueType.Int8 => Fill(r.ReadSByte),
            GgufValueType.UInt16 => Fill(r.ReadUInt16),
            GgufValueType.Int16 => Fill(r.ReadInt16),
            GgufValueType.UInt32 => Fill(r.ReadUInt32),
            GgufValueType.Int32 => Fill(r.ReadInt32),
            GgufValueType.Float32 => Fill(r.ReadSingle),
            GgufValueType.Bool => Fill(() => r.ReadByte() != 0),
            GgufValueType.String => Fill(() => ReadString(r, path)),
            GgufValueType.UInt64 => Fill(r.ReadUInt64),
            GgufValueType.Int64 => Fill(r.ReadInt64),
            GgufValueType.Float64 => Fill(r.ReadDouble),
            GgufValueType.Array => Fill(() => ReadArray(r, path)),
            _ => throw new InvalidDataException($"{path}: unknown array element type {(uint)elementType}"),
        };
    }
}
