using System.Text.Json;
using Reasoner.Core.Datasets;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Preference;

namespace Reasoner.Training.Tpo;

/// <summary>
/// TPO's list format (MrBlankness/TPO, and <c>export --format tpo</c>): one
/// <c>{"prompt", "response_list": [{"response": [steps], "score"}]}</c> object per line. Each response's steps are its
/// steps (each but the last closed by a newline); its score is its value. Lists with fewer than the minimum responses are skipped.
/// </summary>
public static class TpoListReader
{
    public static (IReadOnlyList<TokenizedList> Lists, int TooShort) Read(string path, ITextTokenizer tokenizer, int minListSize)
    {
        var lists = new List<TokenizedList>();
        int number = 0, tooShort = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument json;
            try { json = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new DatasetFormatException($"{path}:{number}: not JSON: {e.Message}"); }
            using (json)
            {
                var root = json.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("prompt", out var prompt) || prompt.ValueKind != JsonValueKind.String)
                    throw new DatasetFormatException($"{path}:{number}: 'prompt' must be a string (TPO lines are {{\"prompt\", \"response_list\": [{{\"response\": [steps], \"score\"}}]}})");
                if (!root.TryGetProperty("response_list", out var responses) || responses.ValueKind != JsonValueKind.Array)
                    throw new DatasetFormatException($"{path}:{number}: 'response_list' must be an array");
                var branches = new List<TokenizedBranch>();
                int index = 0;
                foreach (var response in responses.EnumerateArray())
                {
                    index++;
                    if (response.ValueKind != JsonValueKind.Object || !response.TryGetProperty("response", out var steps) || steps.ValueKind != JsonValueKind.Array
                        || steps.EnumerateArray().Any(s => s.ValueKind != JsonValueKind.String))
                        throw new DatasetFormatException($"{path}:{number}: response {index}: 'response' must be an array of step strings");
                    if (!response.TryGetProperty("score", out var score) || score.ValueKind != JsonValueKind.Number)
                        throw new DatasetFormatException($"{path}:{number}: response {index}: 'score' must be a number");
                    var texts = steps.EnumerateArray().Select(s => s.GetString()!).ToList();
                    var pieces = texts.Select((s, k) => tokenizer.Encode(k < texts.Count - 1 ? s + "\n" : s)).ToList();
                    if (pieces.Sum(p => p.Length) > 0)
                        branches.Add(new TokenizedBranch([.. pieces.SelectMany(p => p)], [.. pieces.Select(p => p.Length)], score.GetDouble()));
                }
                if (branches.Count < minListSize) { tooShort++; continue; }
                var text = prompt.GetString()!;
                lists.Add(new TokenizedList(TrlPreferenceReader.ProblemKey(text), tokenizer.Encode(text), [.. branches.OrderByDescending(b => b.Value)]));
            }
        }
        return (lists, tooShort);
    }
}
