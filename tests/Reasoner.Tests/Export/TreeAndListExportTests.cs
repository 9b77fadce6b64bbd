using Reasoner.Core.Export;
using Reasoner.Core.Trees;
using static Reasoner.Tests.Export.JsonlOutput;

namespace Reasoner.Tests.Export;

public class TreeAndListExportTests
{
    [Fact]
    public void TreeLinesHoldAllMetadataAndEveryNodeInCamelCase()
    {
        var tree = SampleTrees.Random(5, nodes: 9);
        var failed = SampleTrees.Random(8);
        var (lines, counts) = Capture(s => TreeJsonlExport.Write([tree, failed], s));

        Assert.Equal(new ExportCounts(2, 2, 2), counts);
        var line = lines[0];
        Assert.Equal(["error", "modelId", "nodes", "problem", "schemaVersion", "search", "seed", "status", "timings"], Names(line));
        Assert.Equal(["answer", "choices", "family", "id", "kind", "question", "referenceSteps"], Names(line.GetProperty("problem")));
        Assert.Equal(["algorithm", "settings"], Names(line.GetProperty("search")));
        Assert.Equal(["elapsedMs", "phaseMs", "startedUtc"], Names(line.GetProperty("timings")));
        var nodes = line.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(tree.Nodes.Count, nodes.Count);
        Assert.All(nodes, n => Assert.Equal(
            ["answer", "childIds", "depth", "duplicateCount", "id", "isCorrect", "isTerminal", "logProb", "monteCarloValue",
             "outcome", "parentId", "prior", "q", "selfEval", "stepValue", "text", "tokenCount", "truncated", "valueSum", "verifierScore", "visits"],
            Names(n)));

        var last = tree.Nodes[^1];
        var json = nodes[^1];
        Assert.Equal(last.Text, json.GetProperty("text").GetString());
        Assert.Equal(last.Q, json.GetProperty("q").GetDouble());
        Assert.Equal(last.ParentId, json.GetProperty("parentId").GetInt32());
        Assert.Equal(tree.Problem.Question, line.GetProperty("problem").GetProperty("question").GetString());
        Assert.Equal("choice", line.GetProperty("problem").GetProperty("kind").GetString());
        Assert.Equal(tree.Search.Settings["temperature"], line.GetProperty("search").GetProperty("settings").GetProperty("temperature").GetString());
        Assert.Equal("2025-01-02T03:04:05.005Z", line.GetProperty("timings").GetProperty("startedUtc").GetString());
        Assert.Equal("completed", line.GetProperty("status").GetString());
        Assert.Equal(("failed", "out of memory"),
            (lines[1].GetProperty("status").GetString(), lines[1].GetProperty("error").GetString()));
    }

    [Fact]
    public void NonFiniteNumbersDoNotBreakTheTreeDump()
    {
        var tree = SampleTrees.Arithmetic();
        tree.Nodes[1].LogProb = double.NegativeInfinity;
        var (lines, _) = Capture(s => TreeJsonlExport.Write([tree], s));
        Assert.Equal("-Infinity", lines[0].GetProperty("nodes")[1].GetProperty("logProb").GetString());
    }

    [Fact]
    public void TpoLinesRankWholeSolutionsBestFirst()
    {
        var tree = SampleTrees.Arithmetic();
        var (lines, counts) = Capture(s => TpoListExport.Write([tree, SampleTrees.Empty("p2")], s, new TpoListOptions()));

        Assert.Equal(new ExportCounts(2, 1, 1), counts);
        var line = Assert.Single(lines);
        Assert.Equal(["prompt", "response_list"], Names(line));
        Assert.Equal("What is 2x if x = 2?\n", line.GetProperty("prompt").GetString());
        var responses = line.GetProperty("response_list").EnumerateArray().ToList();
        Assert.All(responses, r => Assert.Equal(["response", "score"], Names(r)));
        Assert.Equal([1.0, 0, 0, 0], responses.Select(r => r.GetProperty("score").GetDouble()));
        Assert.Equal(["Let x = 2.", "So 2x = 4.", "The answer is 4."], Strings(responses[0].GetProperty("response")));
    }
}
