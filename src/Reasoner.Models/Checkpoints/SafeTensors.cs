using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Reasoner.Models.Checkpoints;

/// <summary>
/// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
/// N bytes of UTF-8 JSON ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}),
/// then the tensors' bytes, row-major and little-endian, with offsets relative to the end of the header.
/// </summary>
public static class SafeTensors
{
    /// <summary>The spec's limit on the header size, which also catches files that are not safetensors at all.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private static readonly Dictionary<string, ScalarType> DtypeByName = new()
    {
        ["F64"] = ScalarType.Float64, ["F32"] = ScalarType.Float32, ["F16"] = ScalarType.Float16, ["BF16"] = ScalarType.BFloat16,
        ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32, ["I16"] = ScalarType.Int16, ["I8"] = ScalarType.Int8,
        ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
    };

    private static readonly Dictionary<ScalarType, string> NameByDtype = DtypeByName.ToDictionary(kv => kv.Value, kv => kv.Key);

    public static ScalarType ToScalarType(string dtype, string context) =>
        DtypeByName.TryGetValue(dtype, out var t) ? t
            : throw new NotSupportedException($"{context}: unsupported dtype '{dtype}' (supported: {string.Join(", ", DtypeByName.Keys)})");

    public static string ToDtypeName(ScalarType type) =>
        NameByDtype.TryGetValue(type, out var n) ? n : throw new NotSupportedException($"tensor dtype {type} cannot be saved as safetensors");

    public static long ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    /// <summary>
    /// Writes tensors (in the given order) and string metadata. Tensors are streamed one at a time (and converted
    /// to <paramref name="storeAs"/> one at a time), so saving needs no second copy of the model.
    /// The header is padded with spaces so the data starts 8-byte aligned.
    /// </summary>
    public static void Write(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, ScalarType? storeAs = null)
    {
        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, t) in tensors)
            {
                var type = storeAs ?? t.dtype;
                long size = t.numel() * ElementSize(type);
                json.WriteStartObject(name);
                json.WriteString("dtype", ToDtypeName(type));
                json.WriteStartArray("shape");
                foreach (var d in t.shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + size);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += size;
            }
            json.WriteEndObject();
        }
        while ((8 + header.Length) % 8 != 0) header.WriteByte((byte)' ');

        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        file.Write(length);
        header.Position = 0;
        header.CopyTo(file);
        foreach (var (_, t) in tensors)
        {
            using var scope = NewDisposeScope();
            var stored = t.detach().to(storeAs ?? t.dtype, CPU).contiguous();
            if (stored.numel() > 0) file.Write(stored.bytes);
        }
    }
}

/// <summary>Where one tensor lives in a safetensors file.</summary>
public sealed record SafeTensorEntry(string Name, string Dtype, long[] Shape, long Begin, long End);

/// <summary>
/// An open safetensors file. Opening reads and validates only the header; <see cref="Read"/> then reads one
/// tensor at a time, so loading a model never holds more than one raw tensor beyond the model itself.
/// </summary>
public sealed class SafeTensorsReader : IDisposable
{
    private readonly FileStream file;
    private readonly long dataStart;

    public string Path { get; }
    public IReadOnlyDictionary<string, SafeTensorEntry> Entries { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafeTensorsReader(string path, FileStream file, long dataStart, Dictionary<string, SafeTensorEntry> entries, Dictionary<string, string> metadata)
    {
        Path = path;
        this.file = file;
        this.dataStart = dataStart;
        Entries = entries;
        Metadata = metadata;
    }

    public static SafeTensorsReader Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        try
        {
            Span<byte> lengthBytes = stackalloc byte[8];
            if (file.Length < 8) throw new InvalidDataException($"safetensors file {path} is truncated: {file.Length} bytes, less than the 8-byte header length");
            file.ReadExactly(lengthBytes);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (headerLength > SafeTensors.MaxHeaderBytes)
                throw new InvalidDataException($"{path} is not a safetensors file: header length {headerLength} exceeds {SafeTensors.MaxHeaderBytes} bytes");
            if (8 + (long)headerLength > file.Length)
                throw new InvalidDataException($"safetensors file {path} is truncated: the header needs {headerLength} bytes but the file has {file.Length - 8} after the length");
            var header = new byte[headerLength];
            file.ReadExactly(header);
            var (entries, metadata) = ParseHeader(path, header);
            long dataStart = 8 + (long)headerLength, available = file.Length - dataStart;
            long expectedEnd = 0;
            foreach (var e in entries.Values.OrderBy(e => e.Begin).ThenBy(e => e.End))
            {
                if (e.Begin != expectedEnd)
                    throw new InvalidDataException($"safetensors file {path}: tensor '{e.Name}' starts at byte {e.Begin} of the data, expected {expectedEnd} (overlap or hole)");
                expectedEnd = e.End;
            }
            if (expectedEnd > available)
                throw new InvalidDataException($"safetensors file {path} is truncated: its tensors need {expectedEnd} bytes of data but only {available} are present");
            return new SafeTensorsReader(path, file, dataStart, entries, metadata);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, SafeTensorEntry>, Dictionary<string, string>) ParseHeader(string path, byte[] header)
    {
        var entries = new Dictionary<string, SafeTensorEntry>();
        var metadata = new Dictionary<string, string>();
        try
        {
            using var doc = JsonDocument.Parse(header);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    foreach (var m in property.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                var v = property.Value;
                string dtype = v.GetProperty("dtype").GetString()!;
                long[] shape = v.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                long[] offsets = v.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                    throw new InvalidDataException($"safetensors file {path}: tensor '{property.Name}' has invalid data_offsets [{string.Join(", ", offsets)}]");
                var type = SafeTensors.ToScalarType(dtype, $"safetensors file {path}, tensor '{property.Name}'");
                long bytes = shape.Aggregate(1L, (a, b) => a * b) * SafeTensors.ElementSize(type);
                if (bytes != offsets[1] - offsets[0])
                    throw new InvalidDataException($"safetensors file {path}: tensor '{property.Name}' of dtype {dtype} and shape [{string.Join(", ", shape)}] needs {bytes} bytes but data_offsets span {offsets[1] - offsets[0]}");
                entries[property.Name] = new SafeTensorEntry(property.Name, dtype, shape, offsets[0], offsets[1]);
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"safetensors file {path} has a malformed header: {e.Message}", e);
        }
        return (entries, metadata);
    }

    /// <summary>Reads one tensor into a new CPU tensor of its stored dtype.</summary>
    public Tensor Read(string name)
    {
        if (!Entries.TryGetValue(name, out var entry)) throw new KeyNotFoundException($"safetensors file {Path} has no tensor '{name}'");
        var result = empty(entry.Shape, SafeTensors.ToScalarType(entry.Dtype, Path));
        if (entry.End > entry.Begin)
        {
            file.Position = dataStart + entry.Begin;
            file.ReadExactly(result.bytes);
        }
        return result;
    }

    public void Dispose() => file.Dispose();
}
