using System.Runtime.InteropServices;
using System.Text;

namespace Reasoner.Models.Gguf;

/// <summary>
/// Writes a GGUF v3 file: metadata KVs in the order added, then tensor infos and 32-byte-aligned tensor data.
/// Metadata values are typed by their CLR type (string, uint, int, float, bool, ulong, long, double, or an array of
/// one of those), so the caller picks the exact GGUF type llama.cpp's loader expects for each key (it checks them).
/// Tensor data is pulled from a callback one tensor at a time, so writing needs no second copy of the model.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<(string Key, object Value)> metadata = [];
    private readonly List<(string Name, long[] Dims, GgmlType Type, Func<float[]> Data)> tensors = [];

    public const string AlignmentKey = "general.alignment";

    public uint Alignment { get; }

    public int TensorCount => tensors.Count;

    public GgufWriter(uint alignment = GgufFormat.DefaultAlignment)
    {
        if (alignment == 0 || alignment % 8 != 0) throw new ArgumentOutOfRangeException(nameof(alignment), "the GGUF spec requires a multiple of 8");
        Alignment = alignment;
    }

    public GgufWriter Add(string key, object value)
    {
        if (key == AlignmentKey) throw new ArgumentException($"{AlignmentKey} is the constructor's alignment argument", nameof(key));
        if (metadata.Any(m => m.Key == key)) throw new ArgumentException($"metadata key '{key}' is already set", nameof(key));
        TypeOf(value); // reject unsupported value types now, not at write time
        metadata.Add((key, value));
        return this;
    }

    /// <param name="shape">PyTorch (row-major, outermost first) shape; written reversed, as GGUF dims are innermost first.</param>
    /// <param name="data">Produces the tensor's elements in row-major order as float32; converted to <paramref name="type"/> on write.</param>
    public GgufWriter AddTensor(string name, IReadOnlyList<long> shape, GgmlType type, Func<float[]> data)
    {
        if (tensors.Any(t => t.Name == name)) throw new ArgumentException($"tensor '{name}' is already added", nameof(name));
        GgufFormat.ElementSize(type);
        tensors.Add((name, shape.Reverse().ToArray(), type, data));
        return this;
    }

    public void Write(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true); // BinaryWriter is little-endian on every platform
        long fileStart = stream.Position;
        w.Write(GgufFormat.Magic);
        w.Write(GgufFormat.Version);
        // Readers take general.alignment when present; writing it even at the default keeps the file self-describing.
        List<(string Key, object Value)> kvs = [.. metadata, (AlignmentKey, Alignment)];
        w.Write((ulong)tensors.Count);
        w.Write((ulong)kvs.Count);
        foreach (var (key, value) in kvs)
        {
            WriteString(w, key);
            var type = TypeOf(value);
            w.Write((uint)type);
            WriteValue(w, type, value);
        }

        long offset = 0;
        foreach (var (name, dims, type, _) in tensors)
        {
            WriteString(w, name);
            w.Write((uint)dims.Length);
            foreach (var d in dims) w.Write((ulong)d);
            w.Write((uint)type);
            w.Write((ulong)offset);
            offset = GgufFormat.AlignUp(offset + dims.Aggregate(1L, (a, b) => a * b) * GgufFormat.ElementSize(type), Alignment);
        }
        w.Flush();

        long dataStart = Pad(w, fileStart);
        foreach (var (name, dims, type, data) in tensors)
        {
            var values = data();
            long expected = dims.Aggregate(1L, (a, b) => a * b);
            if (values.Length != expected) throw new InvalidOperationException($"tensor '{name}' produced {values.Length} values, its shape holds {expected}");
            // Raw element bytes: GGUF is little-endian, as every platform .NET runs on here.
            if (type == GgmlType.F32)
                w.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            else
                w.Write(MemoryMarshal.AsBytes(values.Select(v => (Half)v).ToArray().AsSpan())); // round to nearest even, as numpy's astype(float16)
            Pad(w, dataStart);
        }
        w.Flush();
    }

    /// <summary>Zero bytes up to the next multiple of the alignment, counted from <paramref name="origin"/>.</summary>
    private long Pad(BinaryWriter w, long origin)
    {
        long position = w.BaseStream.Position;
        long target = origin + GgufFormat.AlignUp(position - origin, Alignment);
        for (; position < target; position++) w.Write((byte)0);
        return position;
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static GgufValueType TypeOf(object value) => value switch
    {
        string => GgufValueType.String,
        uint => GgufValueType.UInt32,
        int => GgufValueType.Int32,
        float => GgufValueType.Float32,
        bool => GgufValueType.Bool,
        ulong => GgufValueType.UInt64,
        long => GgufValueType.Int64,
        double => GgufValueType.Float64,
        Array a when TypeOfElement(a.GetType().GetElementType()!) is not null => GgufValueType.Array,
        _ => throw Unsupported(value),
    };

    private static GgufValueType? TypeOfElement(Type e) =>
        e == typeof(string) ? GgufValueType.String
        : e == typeof(uint) ? GgufValueType.UInt32
        : e == typeof(int) ? GgufValueType.Int32
        : e == typeof(float) ? GgufValueType.Float32
        : e == typeof(bool) ? GgufValueType.Bool
        : e == typeof(ulong) ? GgufValueType.UInt64
        : e == typeof(long) ? GgufValueType.Int64
        : e == typeof(double) ? GgufValueType.Float64
        : null;

    private static NotSupportedException Unsupported(object value) =>
        new($"GGUF metadata cannot hold a value of type {value.GetType().Name}");

    private static void WriteValue(BinaryWriter w, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.UInt32: w.Write((uint)value); break;
            case GgufValueType.Int32: w.Write((int)value); break;
            case GgufValueType.Float32: w.Write((float)value); break;
            case GgufValueType.Bool: w.Write((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.UInt64: w.Write((ulong)value); break;
            case GgufValueType.Int64: w.Write((long)value); break;
            case GgufValueType.Float64: w.Write((double)value); break;
            case GgufValueType.Array:
                var array = (Array)value;
                var elementType = TypeOfElement(array.GetType().GetElementType()!)!.Value;
                w.Write((uint)elementType);
                w.Write((ulong)array.Length);
                foreach (var item in array) WriteValue(w, elementType, item!);
                break;
            default: throw new NotSupportedException($"GGUF value type {type}");
        }
    }
}
