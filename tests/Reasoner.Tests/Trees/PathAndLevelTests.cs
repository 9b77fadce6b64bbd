using Reasoner.Core.Trees;

namespace Reasoner.Tests.Trees;

public class PathAndLevelTests
{
    [Fact]
    public void PathsGoFromTheFirstStepToEachTerminalWithTheOreoReward()
    {
        var tree = SampleTrees.Arithmetic();
        var paths = TreeViews.Paths(tree, new PathOptions()).ToList();
        Assert.Equal([8, 9, 10, 11, 12], paths.Select(p => p.Leaf.Id));
        Assert.Equal([0.0, 0, 1, 0, 0], paths.Select(p => p.Reward));
        var correct = paths[2];
        Assert.Equal([1, 5, 10], correct.Steps.Select(s => s.Id));
        Assert.Equal(["Let x = 2.", "So 2x = 4.", "The answer is 4."], correct.StepTexts);
        Assert.Equal([0.9, 1, 1], correct.Steps.Select(s => s.MonteCarloValue!.Value));
    }

    [Fact]
    public void UnfinishedLeavesAreIncludedOnRequestWithRewardZero()
    {
        var tree = SampleTrees.Arithmetic();
        var paths = TreeViews.Paths(tree, new PathOptions { IncludeUnfinishedLeaves = true }).ToList();
        var unfinished = Assert.Single(paths, p => !p.Leaf.IsTerminal);
        Assert.Equal(4, unfinished.Leaf.Id);
        Assert.Equal(0, unfinished.Reward);
        Assert.Equal(6, paths.Count);
    }

    [Fact]
    public void ATreeWithNoStepsHasNoPaths()
    {
        var tree = SampleTrees.Empty();
        tree.Root.IsTerminal = true;
        Assert.Empty(TreeViews.Paths(tree, new PathOptions { IncludeUnfinishedLeaves = true }));
    }

    [Theory]
    [InlineData(true, false, "4", true, PreferenceLevel.Correct)]
    [InlineData(true, false, "5", false, PreferenceLevel.Incorrect)]
    [InlineData(true, false, null, null, PreferenceLevel.Unparsable)]
    [InlineData(true, false, "4?", null, PreferenceLevel.Unparsable)]
    [InlineData(true, true, "4", true, PreferenceLevel.FormatError)]
    [InlineData(true, true, null, null, PreferenceLevel.FormatError)]
    [InlineData(false, false, null, null, PreferenceLevel.FormatError)]
    public void LevelRuleFollowsTrpa(bool terminal, bool truncated, string? answer, bool? correct, PreferenceLevel expected)
    {
        var node = new TreeNode { IsTerminal = terminal, Truncated = truncated, Answer = answer, IsCorrect = correct };
        Assert.Equal(expected, TreeViews.LevelOf(node));
    }

    [Fact]
    public void PreferenceLevelsListTerminalsBestLevelFirst()
    {
        var tree = SampleTrees.Arithmetic();
        var group = TreeViews.PreferenceLevels(tree);
        Assert.Same(tree.Problem, group.Problem);
        Assert.Equal(
            [(10, PreferenceLevel.Correct), (11, PreferenceLevel.Incorrect), (12, PreferenceLevel.Incorrect),
             (9, PreferenceLevel.Unparsable), (8, PreferenceLevel.FormatError)],
            group.BestFirst.Select(p => (p.TerminalId, p.Level)));
        Assert.Equal(["Let x = 3.", "So 2x = 7 and"], group.BestFirst[^1].Steps);
    }
}
