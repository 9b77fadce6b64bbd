using Reasoner.Core.Trees;

namespace Reasoner.Tests.Trees;

public class PreferenceTreeTests
{
    [Fact]
    public void ANewTreeHasOnlyAnEmptyRoot()
    {
        var tree = SampleTrees.Empty();
        var root = Assert.Single(tree.Nodes);
        Assert.Same(root, tree.Root);
        Assert.Equal((0, -1, 0, ""), (root.Id, root.ParentId, root.Depth, root.Text));
        Assert.True(root.IsRoot);
        Assert.Equal(PreferenceTree.CurrentSchemaVersion, tree.SchemaVersion);
        Assert.False(tree.HasCorrectPath);
    }

    [Fact]
    public void AddChildLinksParentAndChildAndIndexesNodesById()
    {
        var tree = SampleTrees.Empty();
        var a = tree.AddChild(tree.Root, "first", tokenCount: 3, logProb: -1.5, prior: 0.25);
        var b = tree.AddChild(a, "second");
        Assert.Equal((1, 0, 1, 3, -1.5, 0.25), (a.Id, a.ParentId, a.Depth, a.TokenCount, a.LogProb, a.Prior));
        Assert.Equal((2, 1, 2), (b.Id, b.ParentId, b.Depth));
        Assert.Equal([1], tree.Root.ChildIds);
        Assert.Equal([2], a.ChildIds);
        Assert.All(tree.Nodes, n => Assert.Same(n, tree.Nodes[n.Id]));
        Assert.Same(a, tree.Parent(b));
        Assert.Null(tree.Parent(tree.Root));
    }

    [Fact]
    public void AddChildRejectsANodeOfAnotherTree()
    {
        var tree = SampleTrees.Empty();
        var stranger = SampleTrees.Arithmetic().Nodes[3];
        Assert.Throws<ArgumentException>(() => tree.AddChild(stranger, "x"));
    }

    [Fact]
    public void PathsStepsAndTextRunFromTheRootDown()
    {
        var tree = SampleTrees.Arithmetic();
        var a1t = tree.Nodes[10];
        Assert.Equal([0, 1, 5, 10], tree.PathTo(a1t).Select(n => n.Id));
        Assert.Equal(["Let x = 2.", "So 2x = 4.", "The answer is 4."], tree.Steps(a1t));
        Assert.Equal("Let x = 2.\nSo 2x = 4.\nThe answer is 4.", tree.StepsText(a1t));
        Assert.Equal("", tree.StepsText(tree.Root));
        Assert.Equal([tree.Root], tree.PathTo(tree.Root));
    }

    [Fact]
    public void ChildrenLeavesAndTerminalsAreFoundByStructure()
    {
        var tree = SampleTrees.Arithmetic();
        Assert.Equal([1, 2, 3, 4], tree.Children(tree.Root).Select(n => n.Id));
        Assert.Equal([4, 8, 9, 10, 11, 12], tree.Leaves.Select(n => n.Id));
        Assert.Equal([8, 9, 10, 11, 12], tree.Terminals.Select(n => n.Id));
    }

    [Fact]
    public void HasCorrectPathNeedsACorrectTerminal()
    {
        var tree = SampleTrees.Arithmetic();
        Assert.True(tree.HasCorrectPath);
        tree.Nodes[10].IsCorrect = false;
        Assert.False(tree.HasCorrectPath);
    }

    [Fact]
    public void NodeValueSelectorsReadTheNamedScore()
    {
        var node = new TreeNode { Q = 1, MonteCarloValue = 2, SelfEval = 3, Outcome = 4, StepValue = 5, VerifierScore = 6, LogProb = -14, TokenCount = 2 };
        Assert.Equal([1.0, 2, 3, 4, 5, 6, -7], Enum.GetValues<NodeValueKind>().Where(k => k != NodeValueKind.Gold).Select(k => NodeValues.Of(k)(node)!.Value));
        // A step without recorded tokens has no log-probability per token, rather than a division by zero.
        Assert.Null(NodeValues.PolicyLogProb(new TreeNode { LogProb = -3 }));
        // Gold is no stored score: it is judged per tree (GoldValues).
        Assert.Throws<ArgumentException>(() => NodeValues.Of(NodeValueKind.Gold));
    }
}
