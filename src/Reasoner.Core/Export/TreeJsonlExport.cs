using System.Text.Json;
using System.Text.Json.Serialization;
using Reasoner.Core.Trees;

namespace Reasoner.Core.Export;

/// <summary>
/// Every tree, failed ones included, as one camelCase JSON object per line: all metadata and every node,
/// for tools that do not read MessagePack. Enums are written as their names.
/// </summary>
public static class TreeJsonlExport
{
    public static readonly JsonSerializerOptions SerializerOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        // Log-probabilities can be -Infinity; written as a string rather than failing the whole export.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JsonLines.WriterOptions.Encoder,
    };

    public static ExportCounts Write(IEnumerable<PreferenceTree> trees, Stream output)
    {
        using var lines = new JsonLines(output);
        foreach (var tree in trees)
            lines.WriteLine(json => JsonSerializer.Serialize(json, tree, SerializerOptions));
        return new ExportCounts(lines.Count, lines.Count, lines.Count);
    }
}
