using Reasoner.Core.Trees;

namespace Reasoner.Search;

/// <summary>
/// Scores the new children of one expansion, siblings under one parent, each on the scorer's own
/// <see cref="TreeNode"/> field. Scorers see all siblings at once so that they can batch their model calls.
/// </summary>
public interface IStepScorer
{
    string Name { get; }

    Task ScoreAsync(SearchSession session, IReadOnlyList<TreeNode> siblings, CancellationToken cancel);
}
