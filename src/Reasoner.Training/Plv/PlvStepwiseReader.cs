using System.Text.Json;
using Reasoner.Core.Datasets;
using Reasoner.Core.Export;
using Reasoner.Core.Trees;
using Reasoner.Models.Scoring;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Preference;

namespace Reasoner.Training.Plv;

/// <summary>
/// Tree-PLV pairs from TRL's stepwise supervision format, one <c>{"prompt", "completions", "labels"}</c> object per line
/// (what <c>export --format trl-stepwise</c> writes: one root-to-terminal path per line, a bool per step). Two lines with
/// the same prompt whose steps part at step d, one labelled good there and the other bad, are a pair: the good one
/// preferred, the prompt and their shared steps as the prompt, each side's steps from d on.
/// </summary>
public static class PlvStepwiseReader
{
    private sealed record Line(string Prompt, string[] Steps, bool[] Labels);

    public static PlvPairSet Read(string path, ITextTokenizer tokenizer, int maxLength)
    {
        var lines = new List<Line>();
        int number = 0;
        foreach (var text in File.ReadLines(path))
        {
            number++;
            if (!string.IsNullOrWhiteSpace(text)) lines.Add(Parse(path, number, text));
        }
        if (lines.Count == 0) throw new DatasetFormatException($"{path}: no stepwise lines");

        var pairs = new List<PlvPair>();
        int tooLong = 0, empty = 0;
        foreach (var group in lines.GroupBy(l => l.Prompt, StringComparer.Ordinal))
        {
            var members = group.ToArray();
            for (int i = 0; i < members.Length; i++)
                for (int j = i + 1; j < members.Length; j++)
                {
                    var (a, b) = (members[i], members[j]);
                    int d = 0;
                    while (d < a.Steps.Length && d < b.Steps.Length && a.Steps[d] == b.Steps[d]) d++;
                    if (d == a.Steps.Length || d == b.Steps.Length || a.Labels[d] == b.Labels[d]) continue;
                    var (good, bad) = a.Labels[d] ? (a, b) : (b, a);
                    var pair = new PlvPair(TrlPreferenceReader.ProblemKey(group.Key), tokenizer.Encode(PromptText.State(group.Key, a.Steps[..d])),
                        ScorerEngine.StepPieces(tokenizer, good.Steps[d..], PreferenceTree.StepDelimiter),
                        ScorerEngine.StepPieces(tokenizer, bad.Steps[d..], PreferenceTree.StepDelimiter));
                    if (pair.Chosen.Take(pair.Compared).Any(p => p.Length == 0) || pair.Rejected.Take(pair.Compared).Any(p => p.Length == 0)) empty++;
                    else if (pair.Length > maxLength) tooLong++;
                    else pairs.Add(pair);
                }
        }
        return new PlvPairSet(pairs, lines.Count, tooLong, empty);
    }

    private static Line Parse(string path, int number, string text)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new DatasetFormatException($"{path}:{number}: a line must be a JSON object");
            if (!root.TryGetProperty("prompt", out var prompt) || prompt.ValueKind != JsonValueKind.String)
                throw new DatasetFormatException($"{path}:{number}: 'prompt' must be a string (TRL stepwise lines are {{\"prompt\", \"completions\", \"labels\"}})");
            if (!root.TryGetProperty("completions", out var completions) || completions.ValueKind != JsonValueKind.Array || completions.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String))
                throw new DatasetFormatException($"{path}:{number}: 'completions' must be an array of strings, one per step");
            if (!root.TryGetProperty("labels", out var labels) || labels.ValueKind != JsonValueKind.Array || labels.EnumerateArray().Any(l => l.ValueKind is not (JsonValueKind.True or JsonValueKind.False)))
                throw new DatasetFormatException($"{path}:{number}: 'labels' must be an array of booleans, one per step");
            var steps = completions.EnumerateArray().Select(c => c.GetString()!).ToArray();
            var flags = labels.EnumerateArray().Select(l => l.GetBoolean()).ToArray();
            if (steps.Length != flags.Length) throw new DatasetFormatException($"{path}:{number}: {steps.Length} completions but {flags.Length} labels");
            return new Line(prompt.GetString()!, steps, flags);
        }
        catch (JsonException e)
        {
            throw new DatasetFormatException($"{path}:{number}: not JSON: {e.Message}");
        }
    }
}
