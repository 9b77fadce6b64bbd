using Reasoner.Core.Problems;
using Reasoner.Core.Trees;

namespace Reasoner.Search;

/// <summary>
/// A tree search over step-by-step solutions: problem in, preference tree out. The algorithm only decides
/// which node to extend next; how a step extends a solution is <see cref="StepWorld"/>'s business, and which
/// steps exist and what they are worth is the proposer's and the scorers' (the split llm-reasoners makes).
/// </summary>
public interface ISearchAlgorithm
{
    /// <summary>The name stored in <see cref="SearchSettings.Algorithm"/>: "mcts", "best-first", "beam".</summary>
    string Name { get; }

    /// <summary>
    /// Searches one problem. Same settings and seed give the same tree node for node (timings aside). A search that
    /// throws comes back as a tree with <see cref="TreeStatus.Failed"/> holding what was built; cancellation is
    /// thrown, not recorded.
    /// </summary>
    Task<PreferenceTree> SearchAsync(Problem problem, CancellationToken cancel = default);
}
