using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Reasoner.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Tests.Models;

public class SafeTensorsTests
{
    [Fact]
    public void WriterFollowsTheSpecByteForByte()
    {
        using var dir = new TestData.TempDirectory();
        string path = Path.Combine(dir.Path, "t.safetensors");
        SafeTensors.Write(path,
            [("weight", tensor(new float[] { 1f, -2f })), ("ids", tensor(new long[] { 7, 8 }, [1, 2]))],
            new Dictionary<string, string> { ["format"] = "pt" });

        var bytes = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + n) % 8); // data starts 8-byte aligned
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.StartsWith("{", header);
        Assert.Matches(@"^\{.*\} *$", header); // padding is trailing spaces only
        using var doc = JsonDocument.Parse(header);
        Assert.Equal("pt", doc.RootElement.GetProperty("__metadata__").GetProperty("format").GetString());
        var weight = doc.RootElement.GetProperty("weight");
        Assert.Equal("F32", weight.GetProperty("dtype").GetString());
        Assert.Equal([2L], weight.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal([0L, 8L], weight.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        var ids = doc.RootElement.GetProperty("ids");
        Assert.Equal("I64", ids.GetProperty("dtype").GetString());
        Assert.Equal([8L, 24L], ids.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));

        var data = bytes.AsSpan(8 + (int)n);
        Assert.Equal(24, data.Length);
        Assert.Equal(1f, BinaryPrimitives.ReadSingleLittleEndian(data[0..]));
        Assert.Equal(-2f, BinaryPrimitives.ReadSingleLittleEndian(data[4..]));
        Assert.Equal(7L, BinaryPrimitives.ReadInt64LittleEndian(data[8..]));
        Assert.Equal(8L, BinaryPrimitives.ReadInt64LittleEndian(data[16..]));
    }

    /// <summary>A file assembled by hand from the spec (unaligned header, BF16 and F16 bit patterns) reads correctly.</summary>
    [Fact]
    public void ReaderReadsAHandAssembledFile()
    {
        using var dir = new TestData.TempDirectory();
        string path = Path.Combine(dir.Path, "hand.safetensors");
        string header = """{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[4,8]},"__metadata__":{"note":"x"}}""";
        var file = new List<byte>();
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)Encoding.UTF8.GetByteCount(header));
        file.AddRange(length);
        file.AddRange(Encoding.UTF8.GetBytes(header));
        file.AddRange([0x00, 0x3C, 0x00, 0xC0]);   // F16 1.0, -2.0
        file.AddRange([0xC0, 0x3F, 0x80, 0xBF]);   // BF16 1.5, -1.0
        File.WriteAllBytes(path, file.ToArray());

        using var reader = SafeTensorsReader.Open(path);
        Assert.Equal("x", reader.Metadata["note"]);
        using var h = reader.Read("h");
        Assert.Equal(ScalarType.Float16, h.dtype);
        Assert.Equal([1f, -2f], h.to(float32).data<float>().ToArray());
        using var b = reader.Read("b");
        Assert.Equal(ScalarType.BFloat16, b.dtype);
        Assert.Equal([1L, 2L], b.shape);
        Assert.Equal([1.5f, -1f], b.to(float32).data<float>().ToArray());
    }

    [Fact]
    public void EveryDtypeScalarsAndEmptyTensorsRoundTrip()
    {
        using var dir = new TestData.TempDirectory();
        string path = Path.Combine(dir.Path, "all.safetensors");
        var source = new (string, Tensor)[]
        {
            ("f32", randn(3, 5)), ("f16", randn(4).to(ScalarType.Float16)), ("bf16", randn(2, 2).to(ScalarType.BFloat16)),
            ("f64", randn(3, dtype: ScalarType.Float64)), ("i64", tensor(new long[] { long.MinValue, 0, long.MaxValue })),
            ("i32", tensor(new[] { -5, 6 })), ("u8", tensor(new byte[] { 0, 255 })), ("bool", tensor(new[] { true, false })),
            ("scalar", tensor(3.5f)), ("empty", zeros(0, 4)),
        };
        SafeTensors.Write(path, source);
        using var reader = SafeTensorsReader.Open(path);
        Assert.Equal(source.Length, reader.Entries.Count);
        foreach (var (name, t) in source)
        {
            using var read = reader.Read(name);
            Assert.Equal(t.dtype, read.dtype);
            Assert.Equal(t.shape, read.shape);
            Assert.True(t.equal(read).all().item<bool>(), name);
        }
    }

    [Fact]
    public void UnsupportedDtypeIsNamed()
    {
        using var dir = new TestData.TempDirectory();
        string path = Path.Combine(dir.Path, "fp8.safetensors");
        string header = """{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}""";
        var bytes = new byte[8 + header.Length + 2];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<NotSupportedException>(() => SafeTensorsReader.Open(path));
        Assert.Contains("tensor 'w': unsupported dtype 'F8_E4M3'", e.Message);
    }

    [Fact]
    public void GarbageAndTruncationAreReported()
    {
        using var dir = new TestData.TempDirectory();
        string path = Path.Combine(dir.Path, "bad.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("is truncated", Assert.Throws<InvalidDataException>(() => SafeTensorsReader.Open(path)).Message);
        File.WriteAllText(path, "this is not a safetensors file at all");
        Assert.Contains("is not a safetensors file", Assert.Throws<InvalidDataException>(() => SafeTensorsReader.Open(path)).Message);

        SafeTensors.Write(path, [("a", ones(10)), ("b", ones(10))]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsReader.Open(path));
        Assert.Contains("is truncated: its tensors need 80 bytes of data but only 76 are present", e.Message);
    }
}
