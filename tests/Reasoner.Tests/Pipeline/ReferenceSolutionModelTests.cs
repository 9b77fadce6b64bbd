using Reasoner.Core.Problems;
using Reasoner.Core.Tasks;
using Reasoner.Core.Trees;
using Reasoner.Models.Backends;
using Reasoner.Search;
using Reasoner.Tests.Search;

namespace Reasoner.Tests.Pipeline;

public sealed class ReferenceSolutionModelTests
{
    private static readonly Problem Arith = BuiltinTasks.TestSet("arith")[0];
    private static readonly Problem Logic = BuiltinTasks.TestSet("logic")[0];

    private static ReferenceSolutionModel Model(double mistakes, params Problem[] problems) =>
        new(() => problems, new ReferenceSolutionOptions { MistakeRate = mistakes });

    private static Task<PreferenceTree> Search(ILanguageModel model, Problem problem, long seed = 5) =>
        new MonteCarloTreeSearch(model, SearchKit.PromptFiles, new MctsSettings { Seed = seed, Iterations = 2 }).SearchAsync(problem);

    [Fact]
    public async Task WithoutMistakesItWritesTheReferenceSolution()
    {
        foreach (var problem in new[] { Arith, Logic })
        {
            var tree = await Search(Model(0, Arith, Logic), problem);

            Assert.Equal(TreeStatus.Completed, tree.Status);
            Assert.True(tree.HasCorrectPath);
            Assert.All(tree.Terminals, t => Assert.True(t.IsCorrect));
            Assert.Equal(problem.ReferenceSteps, tree.Steps(tree.Terminals.First()));
        }
    }

    [Fact]
    public async Task WithOnlyMistakesNoSolutionIsRight()
    {
        var tree = await Search(Model(1, Arith), Arith);

        Assert.NotEmpty(tree.Terminals);
        Assert.All(tree.Terminals, t => Assert.False(t.IsCorrect));
    }

    [Fact]
    public async Task TheSameSeedGivesTheSameTreeAndTheSelfEvaluationFollowsTheReference()
    {
        var first = await Search(Model(0.4, Arith), Arith, seed: 9);
        var again = await Search(Model(0.4, Arith), Arith, seed: 9);

        Assert.Equal(SearchKit.Canonical(first), SearchKit.Canonical(again));
        foreach (var node in first.Nodes.Where(n => !n.IsRoot))
        {
            var onTrack = first.Steps(node).SequenceEqual(Arith.ReferenceSteps!.Take(node.Depth));
            Assert.Equal(onTrack ? 0.85 : 0.25, node.SelfEval!.Value, 6);
        }
    }

    [Fact]
    public async Task AProblemItWasNotGivenIsAFailedTree()
    {
        var tree = await Search(Model(0, Logic), Arith);

        Assert.Equal(TreeStatus.Failed, tree.Status);
        Assert.Contains("does not know", tree.Error);
    }

    [Theory]
    [InlineData("reference", 0.3, 0)]
    [InlineData("reference:0.1", 0.1, 0)]
    [InlineData("reference:0:25", 0.0, 25)]
    public void SpecsNameTheMistakeRateAndLatency(string spec, double mistakes, int latencyMs)
    {
        var options = ReferenceSolutionModel.ParseSpec(spec)!;
        Assert.Equal(mistakes, options.MistakeRate);
        Assert.Equal(TimeSpan.FromMilliseconds(latencyMs), options.Latency);
        Assert.Null(ReferenceSolutionModel.ParseSpec("http://localhost:8000"));
        Assert.Throws<ArgumentException>(() => ReferenceSolutionModel.ParseSpec("reference:2"));
    }
}
