using Reasoner.Core.Trees;
using Reasoner.Search;
using static Reasoner.Tests.Search.SearchKit;

namespace Reasoner.Tests.Search;

public class BestFirstSearchTests
{
    [Fact]
    public async Task NodesAreExpandedBestFirstByStepReward()
    {
        var model = new ScriptedLanguageModel(Wide());
        var settings = new BestFirstSettings
        {
            Seed = 5,
            World = World with { DepthLimit = 8 },
            Actions = 3,
            MaxExpansions = 12,
            StopAtFirstTerminal = false,
            Scoring = new ScoringSettings { Weights = ScorerWeights.TreePlv, MonteCarlo = new MonteCarloSettings { Rollouts = 8 } },
        };

        var tree = await new BestFirstSearch(model, PromptFiles, settings).SearchAsync(TwoX);

        var order = ExpansionOrder(tree);
        Assert.Equal(12, order.Count);
        Assert.Same(tree.Root, order[0]);
        Assert.Contains(tree.Nodes, n => n.MonteCarloValue is > 0 and < 1);
        for (var i = 1; i < order.Count; i++)
        {
            // Everything open when order[i] was taken: created before its children, not terminal, not yet expanded.
            var taken = order[i];
            var firstChild = taken.ChildIds.Min();
            var open = tree.Nodes.Where(n => n.Id < firstChild && !n.IsRoot && !n.IsTerminal && n != taken && !order.Take(i).Contains(n));
            Assert.All(open, n => Assert.True(n.StepValue <= taken.StepValue,
                $"expansion {i} took node {taken.Id} ({taken.StepValue}) while node {n.Id} ({n.StepValue}) was open"));
        }
    }

    [Fact]
    public async Task TheExpansionBudgetBoundsTheTree()
    {
        var model = new ScriptedLanguageModel(new StepScript().Otherwise(steps =>
            [new ScriptedStep($"Step {steps.Count} a{steps.Count}.", 0.5), new ScriptedStep($"Step {steps.Count} b{string.Concat(steps).Length}.", 0.5)]));
        var verifier = new TableVerifier(new Dictionary<string, double>());
        var settings = new BestFirstSettings
        {
            World = World with { DepthLimit = 100 },
            Actions = 2,
            MaxExpansions = 5,
            Scoring = new ScoringSettings { Weights = ScorerWeights.VerifierOnly },
        };

        var tree = await new BestFirstSearch(model, PromptFiles, settings, verifier).SearchAsync(TwoX);

        Assert.Equal(5, tree.Nodes.Count(n => !n.IsLeaf));
        Assert.Equal(5, model.StepRequests.Count);
        Assert.InRange(tree.Nodes.Count, 6, 1 + 5 * 2);
        Assert.Equal(5, verifier.Calls);
        Assert.Equal("5", tree.Search.Settings["maxExpansions"]);
        Assert.Equal("table-verifier", tree.Search.Settings["verifier"]);
    }

    [Fact]
    public async Task TheSearchStopsWhenTheBestOpenNodeIsAFinishedSolution()
    {
        var model = new ScriptedLanguageModel(TwoBranches());
        var settings = new BestFirstSettings { World = World, Actions = 8, MaxExpansions = 50 };

        var tree = await new BestFirstSearch(model, PromptFiles, settings).SearchAsync(TwoX);

        // Root, "Let x = 2." (roll-outs mostly right), "So 2x = 4." (all right); then "The answer is 4." is taken and ends the search.
        Assert.Equal(3, tree.Nodes.Count(n => !n.IsLeaf));
        var answer = Assert.Single(tree.Nodes, n => n.Text == "The answer is 4.");
        Assert.Equal((1, true), (answer.Visits, answer.IsCorrect));
        Assert.True(Child(tree, tree.Root, WrongStart).IsLeaf);
        Assert.Equal("true", tree.Search.Settings["stopAtFirstTerminal"]);
    }

    [Fact]
    public async Task WithoutStoppingTheSearchRunsUntilTheQueueIsEmpty()
    {
        var model = new ScriptedLanguageModel(TwoBranches());
        var settings = new BestFirstSettings { World = World, Actions = 8, MaxExpansions = 50, StopAtFirstTerminal = false };

        var tree = await new BestFirstSearch(model, PromptFiles, settings).SearchAsync(TwoX);

        Assert.All(tree.Terminals, t => Assert.Equal(3, t.Depth));
        Assert.True(tree.HasCorrectPath);
        Assert.All(tree.Nodes.Where(n => !n.IsTerminal), n => Assert.False(n.IsLeaf));
        Assert.All(tree.Nodes, n => Assert.Equal(1, n.Visits));
    }

    /// <summary>The expanded nodes in the order of expansion: children get increasing ids, so by their first child.</summary>
    private static List<TreeNode> ExpansionOrder(PreferenceTree tree) =>
        [.. tree.Nodes.Where(n => !n.IsLeaf).OrderBy(n => n.ChildIds.Min())];
}
