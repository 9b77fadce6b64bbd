using Reasoner.Core.Judging;
using Reasoner.Core.Trees;

namespace Reasoner.Cli.Viewing;

/// <summary>One row of the run page: a stored tree as the table lists it.</summary>
public sealed record TreeRow(int Index, string Problem, string Family, string Status, string? Error, string Algorithm, int Nodes,
    int Terminals, bool CorrectPath, double Seconds);

/// <summary>A node as the tree page draws it: the stored scores, and on built-in tasks the gold label of its step.</summary>
public sealed record NodeData(int Id, int Parent, int Depth, string Text, int Visits, double Q, double Prior, double? SelfEval,
    double? MonteCarlo, double? Verifier, double? StepValue, double? Outcome, string? Answer, bool? Correct, bool Terminal,
    bool Truncated, int Duplicates, int Tokens, string? Gold, string? GoldReason);

/// <summary>A pair step-level DPO trains on (<see cref="PairDefaults.ForTraining"/>): siblings under one parent, with their margin.</summary>
public sealed record PairData(int Parent, int Chosen, int Rejected, double Margin);

/// <summary>Everything the tree page shows of one tree.</summary>
public sealed record TreePage(int Index, string Problem, string Family, string Question, IReadOnlyList<string> Choices, string Reference,
    string Model, string Algorithm, IReadOnlyDictionary<string, string> Settings, long Seed, DateTime Started, double Seconds,
    IReadOnlyDictionary<string, double> PhaseMs, string Status, string? Error, string RankingValue, IReadOnlyList<NodeData> Nodes,
    IReadOnlyList<PairData> Pairs, IReadOnlyList<int> BestPath);

/// <summary>What the run viewer's pages show of a tree: pure functions over stored trees, tested without a browser.</summary>
public static class TreePageData
{
    public static TreeRow Row(int index, PreferenceTree tree) => new(index, tree.Problem.Id, tree.Problem.Family,
        tree.Status == TreeStatus.Completed ? "completed" : "failed", tree.Error, tree.Search.Algorithm, tree.Nodes.Count,
        tree.Terminals.Count(), tree.HasCorrectPath, Math.Round(tree.Timings.ElapsedMs / 1000.0, 3));

    public static TreePage Page(int index, PreferenceTree tree)
    {
        var ranking = RankingValue(tree);
        var value = NodeValues.Of(ranking);
        // Built-in tasks know the truth of every step (docs/gold-labels.md).
        var gold = tree.Status == TreeStatus.Completed && StepJudges.Supports(tree.Problem.Family) && tree.Problem.ReferenceSteps is not null
            ? GoldLabels.Of(tree) : null;
        var nodes = tree.Nodes.Select(n =>
        {
            var judgement = gold?.Judgement(n);
            return new NodeData(n.Id, n.ParentId, n.Depth, n.Text, n.Visits, Finite(n.Q), Finite(n.Prior), n.SelfEval, n.MonteCarloValue,
                n.VerifierScore, n.StepValue, n.Outcome, n.Answer, n.IsCorrect, n.IsTerminal, n.Truncated, n.DuplicateCount, n.TokenCount,
                judgement?.Label.ToString().ToLowerInvariant(), judgement?.Reason);
        }).ToList();
        var pairs = TreeViews.StepPairs(tree, PairDefaults.ForTraining(ranking, value))
            .Select(p => new PairData(p.ParentId, p.Chosen.NodeId, p.Rejected.NodeId, p.Chosen.Value - p.Rejected.Value))
            .ToList();
        var p = tree.Problem;
        return new TreePage(index, p.Id, p.Family, p.Question, [.. p.Choices.Select(c => $"({c.Label}) {c.Text}")], p.Answer, tree.ModelId,
            tree.Search.Algorithm, tree.Search.Settings, tree.Seed, tree.Timings.StartedUtc, Math.Round(tree.Timings.ElapsedMs / 1000.0, 3),
            tree.Timings.PhaseMs, tree.Status == TreeStatus.Completed ? "completed" : "failed", tree.Error, Name(ranking), nodes, pairs,
            BestPath(tree, ranking));
    }

    /// <summary>
    /// The path the search commits to: MCTS follows the most visited child (ties to the higher Q), as MCTS-DPO picks its
    /// action sequence; other searches follow the child their ranking value rates highest (ties to more visits).
    /// </summary>
    public static IReadOnlyList<int> BestPath(PreferenceTree tree, NodeValueKind ranking)
    {
        var value = NodeValues.Of(ranking);
        var path = new List<int> { 0 };
        for (var node = tree.Root; !node.IsLeaf;)
        {
            node = ranking == NodeValueKind.Q
                ? TreeViews.MostVisitedChild(tree, node)
                : tree.Children(node).OrderByDescending(c => value(c) ?? double.NegativeInfinity).ThenByDescending(c => c.Visits).ThenBy(c => c.Id).First();
            path.Add(node.Id);
        }
        return path;
    }

    /// <summary>The value this tree's search ranked steps by (<see cref="PairDefaults.RankingValue"/>).</summary>
    public static NodeValueKind RankingValue(PreferenceTree tree) => PairDefaults.RankingValue([tree.Search.Algorithm]);

    static string Name(NodeValueKind kind) => kind switch
    {
        NodeValueKind.Q => "q",
        NodeValueKind.MonteCarloValue => "mc",
        NodeValueKind.SelfEval => "selfEval",
        NodeValueKind.Outcome => "outcome",
        NodeValueKind.StepValue => "stepValue",
        NodeValueKind.VerifierScore => "verifier",
        NodeValueKind.PolicyLogProb => "policyLogProb",
        _ => kind.ToString(),
    };

    // JSON has no infinities or NaN; a prior or Q that overflowed shows as 0 rather than breaking the page.
    static double Finite(double x) => double.IsFinite(x) ? x : 0;
}
