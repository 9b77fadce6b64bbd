using Reasoner.Core.Trees;

namespace Reasoner.Search;

/// <summary>
/// Expansion as every algorithm does it: propose k steps for a node, add them as children with their place in
/// the world (open, finished, cut off), and score them. Algorithms decide only which nodes to expand.
/// </summary>
public sealed class StepExpander(StepProposer proposer, StepScoring scoring)
{
    public StepProposer Proposer { get; } = proposer;

    public StepScoring Scoring { get; } = scoring;

    public async Task<IReadOnlyList<TreeNode>> ExpandAsync(SearchSession session, TreeNode node, int k, CancellationToken cancel) =>
        (await ExpandAllAsync(session, [node], k, cancel))[0];

    /// <summary>
    /// Expands several nodes at once (a beam): their requests run concurrently, but children are added in the
    /// order of <paramref name="nodes"/> and each request's seed depends only on its node, so the tree does not
    /// depend on which request finishes first. A node that gets no step at all becomes terminal: the model has
    /// nothing more to write after it.
    /// </summary>
    public async Task<IReadOnlyList<IReadOnlyList<TreeNode>>> ExpandAllAsync(SearchSession session, IReadOnlyList<TreeNode> nodes, int k,
        CancellationToken cancel)
    {
        foreach (var node in nodes)
        {
            if (node.IsTerminal) throw new ArgumentException($"node {node.Id} is terminal and cannot be expanded", nameof(nodes));
            if (!node.IsLeaf) throw new ArgumentException($"node {node.Id} is already expanded", nameof(nodes));
        }

        IReadOnlyList<ProposedStep>[] proposals;
        using (session.Timer.Measure(PhaseTimer.Propose))
        {
            proposals = await Task.WhenAll(nodes.Select(node => Proposer.ProposeAsync(
                session.StateText(node), PreferenceTree.StepDelimiter, k, session.SeedFor(node, RequestSeeds.Propose), cancel)));
        }

        var children = new List<TreeNode>[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
            children[i] = [.. proposals[i].Select(step => AddChild(session, nodes[i], step))];

        using (session.Timer.Measure(PhaseTimer.Score))
        {
            await Task.WhenAll(children.Where(c => c.Count > 0).Select(c => Scoring.ScoreAsync(session, c, cancel)));
            for (var i = 0; i < nodes.Count; i++)
            {
                if (children[i].Count > 0) continue;
                nodes[i].IsTerminal = true;
                Scoring.ScoreAsEnded(session.Tree, nodes[i]);
            }
        }
        return children;
    }

    private static TreeNode AddChild(SearchSession session, TreeNode parent, ProposedStep step)
    {
        var child = session.Tree.AddChild(parent, step.Text, step.TokenCount, step.LogProb, step.Prior);
        child.DuplicateCount = step.Samples - 1;
        var end = session.World.Classify(session.Problem, step.Text, step.Finish, child.Depth, session.SolutionTokens(child));
        child.IsTerminal = end.IsTerminal();
        child.Truncated = end.IsTruncated();
        return child;
    }
}
