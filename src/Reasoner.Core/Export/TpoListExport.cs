using Reasoner.Core.Problems;
using Reasoner.Core.Trees;

namespace Reasoner.Core.Export;

public sealed record TpoListOptions
{
    public TrajectoryListOptions Lists { get; init; } = new();

    public Func<Problem, string> PromptHead { get; init; } = PromptText.Default;
}

/// <summary>
/// TPO's training input (arXiv 2410.12854, code MrBlankness/TPO): one
/// <c>{"prompt", "response_list": [{"response": [steps], "score"}]}</c> object per completed tree, best first.
/// </summary>
public static class TpoListExport
{
    public static ExportCounts Write(IEnumerable<PreferenceTree> trees, Stream output, TpoListOptions options)
    {
        int treeCount = 0;
        using var lines = new JsonLines(output);
        foreach (var tree in trees)
        {
            treeCount++;
            if (tree.Status != TreeStatus.Completed) continue;
            if (TreeViews.TrajectoryList(tree, options.Lists) is not { } list) continue;
            lines.WriteLine(json =>
            {
                json.WriteStartObject();
                json.WriteString("prompt", options.PromptHead(tree.Problem));
                json.WriteStartArray("response_list");
                foreach (var trajectory in list.BestFirst)
                {
                    json.WriteStartObject();
                    json.WriteStartArray("response");
                    foreach (var step in trajectory.Steps) json.WriteStringValue(step);
                    json.WriteEndArray();
                    json.WriteNumber("score", trajectory.Score);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            });
        }
        return new ExportCounts(treeCount, lines.Count, lines.Count);
    }
}
