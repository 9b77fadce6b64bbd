using Reasoner.Core.Trees;

namespace Reasoner.Tests.Trees;

public class RankedListTests
{
    [Fact]
    public void SiblingListsRankEachNodesChildrenBestFirst()
    {
        var tree = SampleTrees.Arithmetic();
        var lists = TreeViews.SiblingLists(tree, new SiblingListOptions()).ToList();
        Assert.Equal([0, 1, 2], lists.Select(l => l.ParentId));
        // By Q: a .8, b .1, d 0 (unvisited but valued), c -.6.
        Assert.Equal([1, 2, 4, 3], lists[0].BestFirst.Select(s => s.NodeId));
        Assert.Equal([0.8, 0.1, 0, -0.6], lists[0].BestFirst.Select(s => s.Value));
        Assert.Equal([5, 6], lists[1].BestFirst.Select(s => s.NodeId));
        Assert.Equal(["Let x = 2."], lists[1].PrefixSteps);
    }

    [Fact]
    public void SiblingListsCountOnlyValuedChildrenTowardsTheMinimumSize()
    {
        var tree = SampleTrees.Arithmetic();
        var options = new SiblingListOptions { Value = NodeValues.MonteCarloValue, MinListSize = 3 };
        var list = Assert.Single(TreeViews.SiblingLists(tree, options));
        Assert.Equal([1, 2, 3], list.BestFirst.Select(s => s.NodeId));
        Assert.Empty(TreeViews.SiblingLists(tree, options with { MinListSize = 4 }));
    }

    [Fact]
    public void SiblingListsCanCarryContinuations()
    {
        var tree = SampleTrees.Arithmetic();
        var options = new SiblingListOptions { Continuation = ContinuationMode.BestChildToLeaf };
        var root = TreeViews.SiblingLists(tree, options).First();
        Assert.Equal(["Let x = 2.", "So 2x = 4.", "The answer is 4."], root.BestFirst[0].Steps);
        Assert.Equal(["Let y = 1."], root.BestFirst[2].Steps);
    }

    [Fact]
    public void TrajectoryListRanksScoredTerminalsByOutcome()
    {
        var tree = SampleTrees.Arithmetic();
        var list = TreeViews.TrajectoryList(tree, new TrajectoryListOptions())!;
        // Outcome 1 first; the 0s by visits (a2t and b1t have 2, c1 has 1), then id. b2 has no outcome.
        Assert.Equal([10, 11, 12, 9], list.BestFirst.Select(t => t.TerminalId));
        Assert.Equal([1.0, 0, 0, 0], list.BestFirst.Select(t => t.Score));
        Assert.Equal(["Let x = 2.", "So 2x = 4.", "The answer is 4."], list.BestFirst[0].Steps);
    }

    [Fact]
    public void TrajectoryListIsNullBelowTheMinimumSize()
    {
        var tree = SampleTrees.Arithmetic();
        Assert.Null(TreeViews.TrajectoryList(tree, new TrajectoryListOptions { MinListSize = 5 }));
        Assert.Null(TreeViews.TrajectoryList(SampleTrees.Empty(), new TrajectoryListOptions { MinListSize = 1 }));
    }
}
