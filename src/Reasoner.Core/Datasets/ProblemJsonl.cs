using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Reasoner.Core.Problems;

namespace Reasoner.Core.Datasets;

/// <summary>Writes problems as JSONL in the shape the "problems" format reads back.</summary>
public static class ProblemJsonl
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        // Questions are full of quotes, apostrophes and LaTeX; escaping them would make the files unreadable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>One problem as one JSON line.</summary>
    public static string Serialize(Problem problem) => JsonSerializer.Serialize(problem, Options);

    /// <summary>
    /// One problem from one JSON record in the "problems" shape, e.g. a queue entry; an <see cref="InvalidRecordException"/>
    /// or <see cref="JsonException"/> names what is wrong. A record without an id gets <c>&lt;family&gt;-&lt;origin&gt;</c>.
    /// </summary>
    public static Problem Parse(string json, string origin)
    {
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidRecordException("(record)", "must be a JSON object");
        return new ProblemJsonFormat().Parse(document.RootElement, new RecordSource(origin, 0));
    }

    public static void Write(TextWriter writer, IEnumerable<Problem> problems)
    {
        foreach (var problem in problems)
            writer.WriteLine(JsonSerializer.Serialize(problem, Options));
    }

    public static void Save(string path, IEnumerable<Problem> problems)
    {
        using var writer = new StreamWriter(path);
        Write(writer, problems);
    }
}
