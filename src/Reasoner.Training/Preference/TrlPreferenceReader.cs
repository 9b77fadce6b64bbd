using System.Text.Json;
using Reasoner.Core.Datasets;
using Reasoner.Models.Tokenization;

namespace Reasoner.Training.Preference;

/// <summary>
/// TRL's preference format, one <c>{"prompt", "chosen", "rejected"}</c> object per line with string values (what
/// <c>export --format trl-pairs</c> writes, and what TRL's DPOTrainer reads), as pairs in tokens. The prompt's text names
/// the problem for the held-out split; chosen and rejected are tokenized as written (no end-of-sequence is added).
/// </summary>
public static class TrlPreferenceReader
{
    public static IReadOnlyList<TokenizedPair> Read(string path, ITextTokenizer tokenizer)
    {
        var pairs = new List<TokenizedPair>();
        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var (prompt, chosen, rejected) = Parse(path, number, line);
            pairs.Add(new TokenizedPair(ProblemKey(prompt), tokenizer.Encode(prompt), tokenizer.Encode(chosen), tokenizer.Encode(rejected), 1, 1));
        }
        if (pairs.Count == 0) throw new DatasetFormatException($"{path}: no preference lines");
        return pairs;
    }

    /// <summary>Lines with the same prompt are one problem, held out together.</summary>
    public static string ProblemKey(string prompt) => Core.Tasks.StableHash.Fnv1a64(prompt).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    private static (string Prompt, string Chosen, string Rejected) Parse(string path, int number, string line)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            string Field(string name) =>
                json.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                    ? value.GetString()!
                    : throw new DatasetFormatException($"{path}:{number}: '{name}' must be a string (TRL preference lines are {{\"prompt\", \"chosen\", \"rejected\"}})");
            if (json.RootElement.ValueKind != JsonValueKind.Object) throw new DatasetFormatException($"{path}:{number}: a line must be a JSON object");
            return (Field("prompt"), Field("chosen"), Field("rejected"));
        }
        catch (JsonException e)
        {
            throw new DatasetFormatException($"{path}:{number}: not JSON: {e.Message}");
        }
    }
}
