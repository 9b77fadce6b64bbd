using Reasoner.Core.Trees;
using Reasoner.Search;
using static Reasoner.Tests.Search.SearchKit;

namespace Reasoner.Tests.Search;

/// <summary>The tree module's views read the trees the searches build.</summary>
public class SearchTreeViewTests
{
    [Fact]
    public async Task MctsDpoPairsPreferTheCorrectStepAlongTheCommittedPath()
    {
        var model = new ScriptedLanguageModel(TwoBranches());
        var tree = await new MonteCarloTreeSearch(model, PromptFiles, new MctsSettings { Seed = 11, World = World, Iterations = 4, RootActions = 8, Actions = 8 })
            .SearchAsync(TwoX);

        var pairs = TreeViews.StepPairs(tree, StepPairOptions.MctsDpo).ToList();

        Assert.NotEmpty(pairs);
        var first = pairs[0];
        Assert.Equal((0, RightStart, WrongStart), (first.ParentId, first.Chosen.Step, first.Rejected.Step));
        Assert.Empty(first.PrefixSteps);
        // The rejected first step has a single continuation, merged into it as MCTS-DPO does.
        Assert.Equal(["So 2x = 6.", "The answer is 6."], first.Rejected.Continuation);
        Assert.All(pairs, p => Assert.True(p.Chosen.Value > p.Rejected.Value));
        Assert.All(pairs.Skip(1), p => Assert.Equal(RightStart, p.PrefixSteps[0]));
    }

    [Fact]
    public async Task TreePlvPairsComeFromMonteCarloValuesOfABestFirstTree()
    {
        // A likelier wrong second step than in the plain script, so that 16 samples surely include it.
        var model = new ScriptedLanguageModel(TwoBranches().After([RightStart], ("So 2x = 4.", 0.7), ("So 2x = 5.", 0.3)));
        var settings = new BestFirstSettings { World = World, Actions = 16, MaxExpansions = 20, StopAtFirstTerminal = false };
        var tree = await new BestFirstSearch(model, PromptFiles, settings).SearchAsync(TwoX);

        var pairs = TreeViews.StepPairs(tree, StepPairOptions.TreePlv).ToList();

        Assert.Contains(pairs, p => p.Chosen.Step == RightStart && p.Rejected.Step == WrongStart);
        Assert.Contains(pairs, p => p.Chosen.Step == "So 2x = 4." && p.Rejected.Step == "So 2x = 5.");
        Assert.All(pairs, p => Assert.True(p.Chosen.Value - p.Rejected.Value >= 0.375));
    }

    [Fact]
    public async Task LevelsAndPathsRankFinishedSolutionsByTheirOutcome()
    {
        var script = new StepScript()
            .After([], (RightStart, 0.4), (WrongStart, 0.3), ("Let us think.", 0.3))
            .After([RightStart], ("The answer is 4.", 1))
            .After([WrongStart], ("The answer is 6.", 1))
            .Otherwise(steps => [new ScriptedStep("Let us think more.", 1)]);
        var model = new ScriptedLanguageModel(script);
        var settings = new BestFirstSettings { World = World with { DepthLimit = 3 }, Actions = 10, MaxExpansions = 20, StopAtFirstTerminal = false };
        var tree = await new BestFirstSearch(model, PromptFiles, settings).SearchAsync(TwoX);

        var levels = TreeViews.PreferenceLevels(tree).BestFirst;
        Assert.Equal([PreferenceLevel.Correct, PreferenceLevel.Incorrect, PreferenceLevel.FormatError], levels.Select(l => l.Level));
        Assert.Equal([RightStart, "The answer is 4."], levels[0].Steps);

        var paths = TreeViews.Paths(tree, new PathOptions()).ToList();
        Assert.Equal(3, paths.Count);
        Assert.Equal(1.0, Assert.Single(paths, p => p.Reward > 0).Reward);
        Assert.Equal("The answer is 4.", paths.Single(p => p.Reward > 0).Leaf.Text);
    }
}
