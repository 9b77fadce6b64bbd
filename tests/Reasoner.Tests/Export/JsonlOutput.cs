using System.Text;
using System.Text.Json;

namespace Reasoner.Tests.Export;

/// <summary>Runs an export into memory and parses its lines back, checking the JSONL framing on the way.</summary>
internal static class JsonlOutput
{
    public static (List<JsonElement> Lines, T Result) Capture<T>(Func<Stream, T> export)
    {
        using var stream = new MemoryStream();
        var result = export(stream);
        var bytes = stream.ToArray();
        Assert.False(bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble), "no byte order mark");
        Assert.DoesNotContain((byte)'\r', bytes);
        if (bytes.Length > 0) Assert.Equal((byte)'\n', bytes[^1]);
        var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())
            .ToList();
        Assert.Equal(text.Count(c => c == '\n'), lines.Count);
        return (lines, result);
    }

    public static string[] Names(JsonElement obj) => [.. obj.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];

    public static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];
}
