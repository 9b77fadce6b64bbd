using System.Text.Json;
using Reasoner.Core.Problems;

namespace Reasoner.Core.Datasets;

/// <summary>
/// Reads a JSONL dataset file into problems. Every non-blank line must become a problem: a bad line is an
/// error naming the file, line and field, or, with <c>skipInvalid</c>, is reported in
/// <see cref="DatasetLoadResult.Skipped"/>, so a file is never half-read silently.
/// </summary>
public static class DatasetLoader
{
    /// <summary>Pass as the format to guess it from the file's first record.</summary>
    public const string AutoFormat = "auto";

    private static readonly IRecordFormat[] AllFormats =
    [
        new Gsm8kFormat(),
        new MathFormat(),
        ChoiceQuestionFormat.Arc,
        ChoiceQuestionFormat.CommonsenseQa,
        new StrategyQaFormat(),
        new ProblemJsonFormat(),
    ];

    /// <summary>The format names <see cref="Load"/> accepts besides <see cref="AutoFormat"/>.</summary>
    public static IReadOnlyList<string> Formats { get; } = AllFormats.Select(f => f.Name).ToArray();

    public static DatasetLoadResult Load(string path, string format = AutoFormat, bool skipInvalid = false)
    {
        var lines = ReadLines(path);
        var recordFormat = format == AutoFormat ? FindFormat(GuessFormat(path, lines)) : FindFormat(format);
        var stem = Path.GetFileNameWithoutExtension(path);
        var problems = new List<Problem>();
        var skipped = new List<DatasetLineError>();
        var lineOfId = new Dictionary<string, int>();

        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            var lineNumber = i + 1;
            try
            {
                using var document = ParseObject(lines[i]);
                var problem = recordFormat.Parse(document.RootElement, new RecordSource(stem, lineNumber));
                if (!lineOfId.TryAdd(problem.Id, lineNumber))
                    throw new InvalidRecordException("id", $"'{problem.Id}' repeats the id of line {lineOfId[problem.Id]}");
                problems.Add(problem);
            }
            catch (InvalidRecordException e)
            {
                Reject(new DatasetLineError(path, lineNumber, e.Field, e.Reason));
            }
            catch (NotAnObjectException e)
            {
                Reject(new DatasetLineError(path, lineNumber, null, e.Message));
            }
        }
        if (problems.Count == 0 && skipped.Count == 0) throw new DatasetFormatException($"{path}: the file has no records");
        return new DatasetLoadResult(problems, skipped);

        void Reject(DatasetLineError error)
        {
            if (!skipInvalid) throw new DatasetFormatException(error);
            skipped.Add(error);
        }
    }

    /// <summary>
    /// Guesses the format from the first non-blank line by its field names. ARC and CommonsenseQA share a
    /// layout and are told apart by CommonsenseQA's <c>question.question_concept</c>.
    /// </summary>
    public static string GuessFormat(string path) => GuessFormat(path, ReadLines(path));

    private static string GuessFormat(string path, string[] lines)
    {
        var first = Array.FindIndex(lines, l => !string.IsNullOrWhiteSpace(l));
        if (first < 0) throw new DatasetFormatException($"{path}: the file has no records to guess the format from");
        JsonElement record;
        try
        {
            using var document = ParseObject(lines[first]);
            record = document.RootElement.Clone();
        }
        catch (NotAnObjectException e)
        {
            throw new DatasetFormatException(new DatasetLineError(path, first + 1, null, e.Message));
        }

        bool Has(string name, JsonValueKind kind) => record.TryGetProperty(name, out var v) && v.ValueKind == kind;
        if (Has("family", JsonValueKind.String) && Has("kind", JsonValueKind.String)) return "problems";
        if (Has("input", JsonValueKind.String) && Has("target_scores", JsonValueKind.Object)) return "strategyqa";
        if (Has("problem", JsonValueKind.String) && Has("solution", JsonValueKind.String)) return "math";
        if (Has("question", JsonValueKind.Object))
            return record.GetProperty("question").TryGetProperty("question_concept", out _) ? "csqa" : "arc";
        if (Has("question", JsonValueKind.String) && Has("answer", JsonValueKind.String)) return "gsm8k";
        throw new DatasetFormatException(
            $"{path}:{first + 1}: cannot guess the dataset format from the fields; pass one of {string.Join(", ", Formats)}");
    }

    private static IRecordFormat FindFormat(string name) =>
        AllFormats.FirstOrDefault(f => f.Name == name)
        ?? throw new ArgumentException($"unknown dataset format '{name}'; expected {AutoFormat} or one of {string.Join(", ", Formats)}", nameof(name));

    private static string[] ReadLines(string path)
    {
        // File.ReadAllLines already fails loudly; this only makes the most common failure name the path plainly.
        if (!File.Exists(path)) throw new FileNotFoundException($"dataset file not found: {path}", path);
        return File.ReadAllLines(path);
    }

    private static JsonDocument ParseObject(string line)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new NotAnObjectException($"invalid JSON: {e.Message}");
        }
        var kind = document.RootElement.ValueKind;
        if (kind == JsonValueKind.Object) return document;
        document.Dispose();
        throw new NotAnObjectException($"the record is a JSON {kind.ToString().ToLowerInvariant()}, not an object");
    }

    private sealed class NotAnObjectException(string message) : Exception(message);
}
