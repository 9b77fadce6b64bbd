using Reasoner.Core.Trees;
using Reasoner.Search;
using static Reasoner.Tests.Search.SearchKit;

namespace Reasoner.Tests.Search;

public class MonteCarloTreeSearchTests
{
    /// <summary>Small budgets; eight root actions so that both first steps of the script are sampled.</summary>
    private static MctsSettings Settings(long seed = 11) => new()
    {
        Seed = seed,
        World = World,
        Iterations = 4,
        RootActions = 8,
    };

    [Fact]
    public async Task VisitsAndValueConcentrateOnTheCorrectBranch()
    {
        var model = new ScriptedLanguageModel(TwoBranches());

        var tree = await new MonteCarloTreeSearch(model, PromptFiles, Settings()).SearchAsync(TwoX);

        Assert.Equal(TreeStatus.Completed, tree.Status);
        var right = Child(tree, tree.Root, RightStart);
        var wrong = Child(tree, tree.Root, WrongStart);
        Assert.True(right.Visits > wrong.Visits, $"visits {right.Visits} vs {wrong.Visits}");
        Assert.True(right.Q > wrong.Q, $"Q {right.Q} vs {wrong.Q}");
        Assert.True(tree.HasCorrectPath);
    }

    [Fact]
    public async Task TheCommittedPathFollowsTheMostVisitedChildToATerminal()
    {
        var model = new ScriptedLanguageModel(TwoBranches());

        var tree = await new MonteCarloTreeSearch(model, PromptFiles, Settings()).SearchAsync(TwoX);

        var node = CommittedPath(tree)[^1];

        Assert.True(node.IsTerminal);
        Assert.Equal("The answer is 4.", node.Text);
        Assert.True(node.IsCorrect);
    }

    [Fact]
    public async Task QIsTheRewardPlusTheVisitWeightedMeanOfTheChildrensQ()
    {
        var model = new ScriptedLanguageModel(TwoBranches());

        var tree = await new MonteCarloTreeSearch(model, PromptFiles, Settings()).SearchAsync(TwoX);

        // Committed steps are left behind as the search moves down, so their Q keeps the value of their own search.
        var committed = CommittedPath(tree);
        foreach (var node in tree.Nodes.Where(n => !n.IsRoot && !committed.Contains(n)))
        {
            var parentValue = tree.Parent(node)!.IsRoot ? 0 : tree.Parent(node)!.StepValue!.Value;
            var children = tree.Children(node).ToList();
            var v = children.Count == 0 ? 0 : children.Sum(c => Math.Max(1, c.Visits) * c.Q) / children.Sum(c => Math.Max(1, c.Visits));
            Assert.Equal(node.StepValue!.Value - parentValue + v, node.Q, 1e-9);
        }
        // Node values are MCTS-DPO's: self-evaluation plus the outcome at terminals.
        var answer = tree.Nodes.First(n => n.Text == "The answer is 4.");
        Assert.Equal(0.9 + 1, answer.StepValue!.Value, 1e-12);
    }

    [Fact]
    public async Task TheRootGetsItsIterationBudgetAndEachSimulationOneVisitPerBackup()
    {
        var script = new StepScript().After([], ("The answer is 4.", 0.5), ("The answer is 5.", 0.5));
        var model = new ScriptedLanguageModel(script);
        var settings = Settings() with { Iterations = 3, RootActions = 6 };

        var tree = await new MonteCarloTreeSearch(model, PromptFiles, settings).SearchAsync(TwoX);

        // Every simulation ends at a terminal child: one backup each, plus the simulation's own visit of the root.
        Assert.Equal(3 * 4, tree.Children(tree.Root).Sum(c => c.Visits));
        Assert.Equal(2 * 3 * 4, tree.Root.Visits);
        Assert.Single(model.StepRequests);
        var request = model.StepRequests[0];
        Assert.Equal(6, request.N);
    }

    [Fact]
    public async Task EachNodeIsExpandedOnceWithinTheHorizonAndWithItsActionCount()
    {
        var model = new ScriptedLanguageModel(Wide());
        var settings = new MctsSettings { Seed = 3, World = World with { DepthLimit = 20 }, Iterations = 2, RootActions = 3, Actions = 2, Horizon = 2 };

        var tree = await new MonteCarloTreeSearch(model, PromptFiles, settings).SearchAsync(TwoX);

        var expanded = tree.Nodes.Where(n => !n.IsLeaf).ToList();
        Assert.Equal(expanded.Count, model.StepRequests.Count);
        Assert.Equal(expanded.Count, model.StepRequests.Select(r => r.Prompt).Distinct().Count());
        Assert.All(model.StepRequests, r => Assert.Equal(r.Prompt.EndsWith("Answer:\n") ? 3 : 2, r.N));
        Assert.All(tree.Nodes, n => Assert.True(n.ChildIds.Count <= (n.IsRoot ? 3 : 2)));
        // Four commits (the script's solutions have four steps), each simulation expanding at most the horizon's two levels.
        Assert.True(model.StepRequests.Count <= (2 * 4 + 4 * 2) * 2, $"{model.StepRequests.Count} expansions");
        Assert.True(CommittedPath(tree)[^1].IsTerminal);
    }

    [Fact]
    public async Task AllSettingsSeedModelAndTimingsAreRecorded()
    {
        var model = new ScriptedLanguageModel(TwoBranches());

        var tree = await new MonteCarloTreeSearch(model, PromptFiles, Settings(seed: 99)).SearchAsync(TwoX);

        Assert.Equal(("mcts", "scripted", 99L), (tree.Search.Algorithm, tree.ModelId, tree.Seed));
        var s = tree.Search.Settings;
        Assert.Equal("4", s["iterations"]);
        Assert.Equal("4", s["rootIterationMultiplier"]);
        Assert.Equal("1", s["explorationWeight"]);
        Assert.Equal("1", s["gamma"]);
        Assert.Equal("3", s["horizon"]);
        Assert.Equal("2", s["actions"]);
        Assert.Equal("8", s["rootActions"]);
        Assert.Equal("128", s["proposal.maxStepTokens"]);
        Assert.Equal("1.25", s["proposal.lengthPenalty"]);
        Assert.Equal("bare", s["world.solvePrompt"]);
        Assert.Equal("6", s["world.depthLimit"]);
        Assert.Equal(("1", "1", "0", "0"), (s["weights.outcome"], s["weights.selfEval"], s["weights.monteCarlo"], s["weights.verifier"]));
        Assert.Equal("none", s["verifier"]);
        Assert.Equal(["propose", "score", "select"], tree.Timings.PhaseMs.Keys.Order());
        Assert.True(tree.Timings.ElapsedMs >= tree.Timings.PhaseMs.Values.Max());
        Assert.Equal(DateTimeKind.Utc, tree.Timings.StartedUtc.Kind);
    }

    [Fact]
    public async Task ABrokenBackendGivesAFailedTreeAndCancellationIsThrown()
    {
        var model = new ScriptedLanguageModel(TwoBranches()) { FailWith = new HttpRequestException("connection refused") };

        var failed = await new MonteCarloTreeSearch(model, PromptFiles, Settings()).SearchAsync(TwoX);

        Assert.Equal(TreeStatus.Failed, failed.Status);
        Assert.Equal("HttpRequestException: connection refused", failed.Error);
        Assert.Single(failed.Nodes);

        model.FailWith = null;
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => new MonteCarloTreeSearch(model, PromptFiles, Settings()).SearchAsync(TwoX, cancelled.Token));
    }

    /// <summary>The root, then the most visited child at each level (ties to higher Q, lower id), to a leaf.</summary>
    private static List<TreeNode> CommittedPath(PreferenceTree tree)
    {
        var path = new List<TreeNode> { tree.Root };
        while (!path[^1].IsLeaf)
            path.Add(tree.Children(path[^1]).OrderByDescending(c => c.Visits).ThenByDescending(c => c.Q).ThenBy(c => c.Id).First());
        return path;
    }
}
