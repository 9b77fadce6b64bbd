using Reasoner.Core.Problems;
using Reasoner.Core.Trees;

namespace Reasoner.Core.Export;

public sealed record TrlStepwiseOptions
{
    public Func<TreeNode, double?> StepValue { get; init; } = NodeValues.MonteCarloValue;

    /// <summary>
    /// A step is labelled correct when its value is above this. 0 with Monte Carlo values is Math-Shepherd's
    /// hard estimate (arXiv 2312.08935): a step is good if any roll-out from it reaches the right answer.
    /// </summary>
    public double Threshold { get; init; }

    public Func<Problem, string> PromptHead { get; init; } = PromptText.Default;
}

/// <summary>
/// TRL's stepwise supervision format (PRMTrainer): one <c>{"prompt","completions","labels"}</c> object per
/// root-to-terminal path of each completed tree, one bool label per step.
/// </summary>
public static class TrlStepwiseExport
{
    public static ExportCounts Write(IEnumerable<PreferenceTree> trees, Stream output, TrlStepwiseOptions options)
    {
        int treeCount = 0, treesUsed = 0;
        using var lines = new JsonLines(output);
        foreach (var tree in trees)
        {
            treeCount++;
            if (tree.Status != TreeStatus.Completed) continue;
            var before = lines.Count;
            foreach (var path in TreeViews.Paths(tree, new PathOptions()))
            {
                var labels = StepLabels(path, options);
                lines.WriteLine(json =>
                {
                    json.WriteStartObject();
                    json.WriteString("prompt", options.PromptHead(tree.Problem));
                    json.WriteStartArray("completions");
                    foreach (var step in path.Steps) json.WriteStringValue(step.Text);
                    json.WriteEndArray();
                    json.WriteStartArray("labels");
                    foreach (var label in labels) json.WriteBooleanValue(label);
                    json.WriteEndArray();
                    json.WriteEndObject();
                });
            }
            if (lines.Count > before) treesUsed++;
        }
        return new ExportCounts(treeCount, treesUsed, lines.Count);
    }

    /// <summary>
    /// Per-step labels from the step values when every step of the path has one; otherwise (outcome-only
    /// trees) every step takes the final answer's correctness, the labelling ORMs use.
    /// </summary>
    public static IReadOnlyList<bool> StepLabels(ScoredPath path, TrlStepwiseOptions options)
    {
        var values = path.Steps.Select(options.StepValue).ToList();
        if (values.All(v => v is not null))
            return [.. values.Select(v => v!.Value > options.Threshold)];
        var correct = path.Leaf.IsCorrect == true;
        return [.. path.Steps.Select(_ => correct)];
    }
}
