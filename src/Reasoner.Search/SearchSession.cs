using Reasoner.Core.Export;
using Reasoner.Core.Problems;
using Reasoner.Core.Trees;
using Reasoner.Models.Backends;

namespace Reasoner.Search;

/// <summary>
/// One search of one problem as the proposer and the scorers see it: the tree being built, the policy, the text of
/// any node's state, and the seed of any request. Not shared between searches.
/// </summary>
public sealed class SearchSession
{
    private readonly string _initialState;

    internal SearchSession(PreferenceTree tree, ILanguageModel model, StepWorld world)
    {
        Tree = tree;
        Model = model;
        World = world;
        _initialState = world.InitialState(tree.Problem);
    }

    public PreferenceTree Tree { get; }

    public Problem Problem => Tree.Problem;

    public ILanguageModel Model { get; }

    public StepWorld World { get; }

    internal PhaseTimer Timer { get; } = new();

    /// <summary>The prompt that continues the solution after <paramref name="node"/>: solve prompt, then each step and its delimiter.</summary>
    public string StateText(TreeNode node) =>
        PromptText.State(_initialState, Tree.Steps(node));

    /// <summary>The seed of a request made for <paramref name="node"/>; see <see cref="RequestSeeds"/>.</summary>
    public long SeedFor(TreeNode node, string purpose) => RequestSeeds.For(Tree.Seed, Problem.Id, node.Id, purpose);

    /// <summary>Tokens of the steps from the root down to <paramref name="node"/>.</summary>
    public int SolutionTokens(TreeNode node) => Tree.PathTo(node).Sum(n => n.TokenCount);
}
