using System.Text.Json;
using Reasoner.Core.Answers;
using Reasoner.Core.Problems;

namespace Reasoner.Tests.Answers;

/// <summary>Runs the extractor and checker over every reference solution of the real datasets.</summary>
public class DatasetSelfCheckTests
{
    [Fact]
    public void GsmReferenceSolutionsYieldTheirOwnAnswer()
    {
        var records = new[] { "test.jsonl", "train.jsonl" }.SelectMany(f => ReadJsonl(SharedData.Path("gsm8k", f))).ToList();
        var failures = new List<string>();
        foreach (var record in records)
        {
            string solution = record.GetProperty("answer").GetString()!;
            string expected = solution[(solution.LastIndexOf("####", StringComparison.Ordinal) + 4)..].Trim();
            string? extracted = AnswerExtractor.Extract(solution, AnswerKind.Number);
            if (extracted is null || !AnswerChecker.IsEquivalent(extracted, expected, AnswerKind.Number))
                failures.Add($"expected {expected}, extracted {extracted ?? "null"}");
        }
        Assert.Equal(1300, records.Count);
        Assert.True(failures.Count == 0, $"{failures.Count} GSM8K records failed:\n{string.Join("\n", failures.Take(30))}");
    }

    [Fact]
    public void MathReferenceSolutionsBoxTheirOwnAnswer()
    {
        var records = ReadJsonl(SharedData.Path("math500", "test.jsonl")).ToList();
        var failures = new List<string>();
        foreach (var record in records)
        {
            string answer = record.GetProperty("answer").GetString()!;
            string? boxed = AnswerExtractor.Extract(record.GetProperty("solution").GetString()!, AnswerKind.Math);
            if (boxed is null || !AnswerChecker.IsEquivalent(boxed, answer, AnswerKind.Math))
                failures.Add($"{record.GetProperty("unique_id").GetString()}: boxed {boxed ?? "null"} vs answer {answer}");
        }
        Assert.Equal(400, records.Count);
        Assert.True(failures.Count == 0, $"{failures.Count} MATH-500 records failed:\n{string.Join("\n", failures)}");
    }

    [Fact]
    public void MathAnswersOfDifferentRecordsAreRejected()
    {
        var answers = ReadJsonl(SharedData.Path("math500", "test.jsonl")).Select(r => r.GetProperty("answer").GetString()!).ToList();
        var accepted = new List<string>();
        int pairs = 0;
        for (int i = 0; i < answers.Count; i++)
        {
            string a = answers[i], b = answers[(i + 1) % answers.Count];
            if (MathNormalizer.Normalize(a) == MathNormalizer.Normalize(b)) continue;
            pairs++;
            if (AnswerChecker.IsEquivalent(a, b, AnswerKind.Math) || AnswerChecker.IsEquivalent(b, a, AnswerKind.Math))
                accepted.Add($"{a}  ~  {b}");
        }
        Assert.True(pairs > 300, $"only {pairs} mismatched pairs");
        Assert.True(accepted.Count <= pairs * 0.05, $"{accepted.Count} of {pairs} mismatched pairs accepted:\n{string.Join("\n", accepted)}");
    }

    private static IEnumerable<JsonElement> ReadJsonl(string path) =>
        File.ReadLines(path).Where(line => line.Length > 0).Select(line => JsonDocument.Parse(line).RootElement.Clone());
}
