using Reasoner.Cli.Viewing;
using Reasoner.Core.Trees;
using Reasoner.Tests.Judging;

namespace Reasoner.Tests.Viewing;

public class TreePageDataTests
{
    [Fact]
    public void An_mcts_tree_page_has_the_most_visited_path_and_the_pairs_train_dpo_takes()
    {
        var page = TreePageData.Page(0, SampleTrees.Arithmetic());

        Assert.Equal("q", page.RankingValue);
        Assert.Equal([0, 1, 5, 10], page.BestPath);
        // Best against worst sibling by Q, along the most visited path: a (.8) over c (-.6) at the root, a1 (.9) over a2 (-.5) below a.
        Assert.Equal([new PairData(0, 1, 3, 0.8 - -0.6), new PairData(1, 5, 6, 0.9 - -0.5)],
            page.Pairs.Select(p => p with { Margin = Math.Round(p.Margin, 9) }));
        Assert.Equal(13, page.Nodes.Count);
        Assert.All(page.Nodes, n => Assert.Null(n.Gold));
        var terminal = page.Nodes[10];
        Assert.Equal(("4", true, true), (terminal.Answer, terminal.Correct, terminal.Terminal));
    }

    [Fact]
    public void A_best_first_tree_follows_the_highest_monte_carlo_value()
    {
        var tree = SampleTrees.Arithmetic();
        var bestFirst = new PreferenceTree { Problem = tree.Problem, ModelId = tree.ModelId, Search = new SearchSettings(AlgorithmNames.BestFirst, tree.Search.Settings), Nodes = tree.Nodes };
        // b1 (MC .5) outranks b2 (.25) but a (.9) outranks b at the root: a, then a1 (1) over a2 (.25).
        Assert.Equal([0, 1, 5, 10], TreePageData.BestPath(bestFirst, NodeValueKind.MonteCarloValue));
        bestFirst.Nodes[2].MonteCarloValue = 0.95;
        Assert.Equal([0, 2, 7, 12], TreePageData.BestPath(bestFirst, NodeValueKind.MonteCarloValue));
    }

    [Fact]
    public void Built_in_task_trees_carry_each_steps_gold_label()
    {
        var page = TreePageData.Page(1, DataQualityTests.Tree());
        Assert.Null(page.Nodes[0].Gold);
        Assert.Equal("valid", page.Nodes[1].Gold);
        Assert.Equal("correct", page.Nodes[4].Gold);
        Assert.Equal("invalid", page.Nodes[7].Gold); // 9 - 3 = 5
        Assert.False(string.IsNullOrWhiteSpace(page.Nodes[7].GoldReason));
    }

    [Fact]
    public void Paths_resolve_inside_the_run_folder_only()
    {
        var root = Directory.CreateTempSubdirectory("viewer-paths-").FullName;
        try
        {
            var run = Path.Combine(root, "run");
            Directory.CreateDirectory(Path.Combine(run, "plots"));
            File.WriteAllText(Path.Combine(run, "plots", "a.png"), "x");
            File.WriteAllText(Path.Combine(root, "secret.txt"), "x");
            File.CreateSymbolicLink(Path.Combine(run, "link.txt"), Path.Combine(root, "secret.txt"));
            Directory.CreateSymbolicLink(Path.Combine(run, "out"), root);

            Assert.Equal(Path.Combine(run, "plots", "a.png"), RunViewer.ResolveInside(run, "plots/a.png"));
            foreach (var bad in new[] { "../secret.txt", "plots/../../secret.txt", "/etc/passwd", Path.Combine(root, "secret.txt"), "", "a\0b", "link.txt", "out/secret.txt" })
                Assert.Null(RunViewer.ResolveInside(run, bad));
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}
