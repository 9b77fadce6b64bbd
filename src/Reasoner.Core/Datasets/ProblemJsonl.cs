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
