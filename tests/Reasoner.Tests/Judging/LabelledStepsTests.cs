using System.Text.Json;
using Reasoner.Core;
using Reasoner.Core.Judging;
using Reasoner.Core.Problems;

namespace Reasoner.Tests.Judging;

/// <summary>
/// The judge against people: labelled-steps.jsonl holds steps the built-in model wrote in MCTS and best-first trees, each
/// labelled by reading it in the context of the steps before it (docs/gold-labels.md says how the set was made).
/// </summary>
public class LabelledStepsTests
{
    private static readonly string SetPath = Path.Combine(RepositoryRoot.TryFind()!, "tests", "Reasoner.Tests", "Judging", "labelled-steps.jsonl");

    [Fact]
    public void TheJudgeAgreesWithTheHandLabelsOnAtLeast97Percent()
    {
        var disagreements = new List<string>();
        int total = 0;
        var labelsSeen = new HashSet<string>();
        foreach (var line in File.ReadLines(SetPath))
        {
            var record = JsonDocument.Parse(line).RootElement;
            var p = record.GetProperty("problem");
            var family = record.GetProperty("family").GetString()!;
            var problem = new Problem(p.GetProperty("id").GetString()!, family, p.GetProperty("question").GetString()!, p.GetProperty("answer").GetString()!,
                family == "arith" ? AnswerKind.Number : AnswerKind.YesNo)
            {
                ReferenceSteps = [.. p.GetProperty("referenceSteps").EnumerateArray().Select(e => e.GetString()!)],
            };
            var steps = record.GetProperty("previous").EnumerateArray().Select(e => e.GetString()!).Append(record.GetProperty("step").GetString()!);
            var judgement = StepJudges.For(problem).JudgeSolution(steps)[^1];
            var human = record.GetProperty("label").GetString()!;
            labelsSeen.Add($"{family}:{human}");
            total++;
            if (!string.Equals(judgement.Label.ToString(), human, StringComparison.OrdinalIgnoreCase))
                disagreements.Add($"{record.GetProperty("id").GetString()}: read as {human} ({record.GetProperty("note").GetString()}), judged {judgement}");
        }
        Assert.True(total >= 200, $"only {total} labelled steps");
        // Both families, and every label a sampled step can carry but neutral (the model's steps never merely restate).
        Assert.Subset(labelsSeen, new HashSet<string> { "arith:valid", "arith:invalid", "arith:correct", "arith:incorrect", "logic:valid", "logic:invalid", "logic:incorrect" });
        double agreement = 1 - (double)disagreements.Count / total;
        Assert.True(agreement >= 0.97, $"agreement {agreement:P1} on {total} steps:\n{string.Join("\n", disagreements)}");
    }
}
