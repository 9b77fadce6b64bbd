using Reasoner.Core.Problems;
using Reasoner.Core.Trees;

namespace Reasoner.Core.Export;

public sealed record TrlPreferenceOptions
{
    /// <summary>Which pairs; their <see cref="StepPairOptions.Continuation"/> decides whether chosen/rejected are one step or the step and what follows it.</summary>
    public StepPairOptions Pairs { get; init; } = StepPairOptions.TreePlv;

    public Func<Problem, string> PromptHead { get; init; } = PromptText.Default;
}

/// <summary>
/// TRL's preference format (huggingface.co/docs/trl/dataset_formats): one <c>{"prompt","chosen","rejected"}</c>
/// object per step pair, prompt = question and shared prefix steps. Only completed trees are used.
/// </summary>
public static class TrlPreferenceExport
{
    public static ExportCounts Write(IEnumerable<PreferenceTree> trees, Stream output, TrlPreferenceOptions options)
    {
        int treeCount = 0, treesUsed = 0;
        using var lines = new JsonLines(output);
        foreach (var tree in trees)
        {
            treeCount++;
            if (tree.Status != TreeStatus.Completed) continue;
            var before = lines.Count;
            foreach (var pair in TreeViews.StepPairs(tree, options.Pairs))
            {
                lines.WriteLine(json =>
                {
                    json.WriteStartObject();
                    json.WriteString("prompt", PromptText.WithPrefix(options.PromptHead, tree.Problem, pair.PrefixSteps));
                    json.WriteString("chosen", PromptText.Completion(pair.Chosen.Steps));
                    json.WriteString("rejected", PromptText.Completion(pair.Rejected.Steps));
                    json.WriteEndObject();
                });
            }
            if (lines.Count > before) treesUsed++;
        }
        return new ExportCounts(treeCount, treesUsed, lines.Count);
    }
}
