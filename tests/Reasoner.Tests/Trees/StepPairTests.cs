using Reasoner.Core.Trees;

namespace Reasoner.Tests.Trees;

public class StepPairTests
{
    private static List<(int Chosen, int Rejected)> Ids(IEnumerable<StepPair> pairs) =>
        [.. pairs.Select(p => (p.Chosen.NodeId, p.Rejected.NodeId))];

    [Fact]
    public void TreePlvTakesEverySiblingPairAtLeastTheMarginApart()
    {
        var tree = SampleTrees.Arithmetic();
        var pairs = TreeViews.StepPairs(tree, StepPairOptions.TreePlv).ToList();
        // b (.5) vs c (.125) is exactly 0.375 apart and counts; b1 vs b2 (.25 apart) does not; d has no value.
        Assert.Equal([(1, 2), (1, 3), (2, 3), (5, 6)], Ids(pairs));
        Assert.All(pairs, p => Assert.True(p.Chosen.Value - p.Rejected.Value >= 0.375));
    }

    [Fact]
    public void APairCarriesItsPrefixStepsValuesAndVisits()
    {
        var tree = SampleTrees.Arithmetic();
        var pair = TreeViews.StepPairs(tree, StepPairOptions.TreePlv).Single(p => p.ParentId == 1);
        Assert.Same(tree.Problem, pair.Problem);
        Assert.Equal(["Let x = 2."], pair.PrefixSteps);
        Assert.Equal((5, "So 2x = 4.", 1.0, 6), (pair.Chosen.NodeId, pair.Chosen.Step, pair.Chosen.Value, pair.Chosen.Visits));
        Assert.Equal((6, "So 2x = 5.", 0.25, 3), (pair.Rejected.NodeId, pair.Rejected.Step, pair.Rejected.Value, pair.Rejected.Visits));
        Assert.Empty(pair.Chosen.Continuation);
        Assert.Empty(pair.Rejected.Continuation);
        Assert.Empty(TreeViews.StepPairs(tree, StepPairOptions.TreePlv).First().PrefixSteps);
    }

    [Fact]
    public void MctsDpoPairsBestWithWorstByQAlongTheMostVisitedPath()
    {
        var tree = SampleTrees.Arithmetic();
        var pairs = TreeViews.StepPairs(tree, StepPairOptions.MctsDpo).ToList();
        // Root: best a (Q .8) vs worst c (Q -.6); then down to a (10 visits): a1 vs a2. b's group is off the path.
        Assert.Equal([(1, 3), (5, 6)], Ids(pairs));
        // Single-child chains merge: c's only child follows it; a has two children, so it stands alone.
        Assert.Equal(["Let x = 2."], pairs[0].Chosen.Steps);
        Assert.Equal(["I am unsure.", "Maybe it is four-ish?"], pairs[0].Rejected.Steps);
        Assert.Equal(["So 2x = 4.", "The answer is 4."], pairs[1].Chosen.Steps);
        Assert.Equal(["So 2x = 5.", "The answer is 5."], pairs[1].Rejected.Steps);
    }

    [Fact]
    public void BestVsWorstOverAllGroupsYieldsOnePairPerGroup()
    {
        var tree = SampleTrees.Arithmetic();
        var options = StepPairOptions.MctsDpo with { Groups = SiblingGroups.All };
        Assert.Equal([(1, 3), (5, 6), (7, 8)], Ids(TreeViews.StepPairs(tree, options)));
    }

    [Fact]
    public void BestChildToLeafContinuesEachSideToAWholeSolution()
    {
        var tree = SampleTrees.Arithmetic();
        var options = StepPairOptions.TreePlv with { Continuation = ContinuationMode.BestChildToLeaf };
        var pair = TreeViews.StepPairs(tree, options).First();
        Assert.Equal(["Let x = 2.", "So 2x = 4.", "The answer is 4."], pair.Chosen.Steps);
        // Under b the best child by MC value is b1 (.5), not the truncated b2 (.25).
        Assert.Equal(["Let x = 3.", "So 2x = 6.", "The answer is 6."], pair.Rejected.Steps);
    }

    [Fact]
    public void EqualValuesNeverMakeAPairEvenWithZeroMargin()
    {
        var tree = SampleTrees.Empty();
        SampleTrees.Step(tree, tree.Root, "x", mc: 0.5, q: 0, visits: 1);
        SampleTrees.Step(tree, tree.Root, "y", mc: 0.5, q: 0, visits: 1);
        Assert.Empty(TreeViews.StepPairs(tree, StepPairOptions.TreePlv with { MinMargin = 0 }));
    }

    [Fact]
    public void TiesInValueRankTheMoreVisitedSiblingFirst()
    {
        var tree = SampleTrees.Empty();
        SampleTrees.Step(tree, tree.Root, "low", mc: 0, q: 0, visits: 1);
        SampleTrees.Step(tree, tree.Root, "few", mc: 1, q: 0, visits: 2);
        SampleTrees.Step(tree, tree.Root, "many", mc: 1, q: 0, visits: 9);
        var pair = Assert.Single(TreeViews.StepPairs(tree, StepPairOptions.TreePlv with { Selection = PairSelection.BestVsWorst }));
        Assert.Equal(("many", "low"), (pair.Chosen.Step, pair.Rejected.Step));
    }

    [Fact]
    public void NonFiniteValuesAreLeftOutLikeMissingOnes()
    {
        var tree = SampleTrees.Empty();
        SampleTrees.Step(tree, tree.Root, "nan", mc: double.NaN, q: 0, visits: 1);
        SampleTrees.Step(tree, tree.Root, "good", mc: 1, q: 0, visits: 1);
        Assert.Empty(TreeViews.StepPairs(tree, StepPairOptions.TreePlv));
    }

    [Fact]
    public void ACustomSelectorChoosesTheValue()
    {
        var tree = SampleTrees.Arithmetic();
        var bySelfEval = StepPairOptions.TreePlv with { Value = NodeValues.SelfEval };
        Assert.Empty(TreeViews.StepPairs(tree, bySelfEval));
        tree.Nodes[1].SelfEval = 0.1;
        tree.Nodes[2].SelfEval = 0.9;
        Assert.Equal([(2, 1)], Ids(TreeViews.StepPairs(tree, bySelfEval)));
    }
}
