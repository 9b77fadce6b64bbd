using Reasoner.Core.Trees;
using Reasoner.Search;
using static Reasoner.Tests.Search.SearchKit;

namespace Reasoner.Tests.Search;

public class BeamSearchTests
{
    [Fact]
    public async Task EachDepthKeepsTheBestCandidatesUpToTheBeamWidth()
    {
        var model = new ScriptedLanguageModel(Wide());
        var settings = new BeamSettings { Seed = 2, World = World with { DepthLimit = 8 }, BeamWidth = 2, Actions = 3 };

        var tree = await new BeamSearch(model, PromptFiles, settings).SearchAsync(TwoX);

        Assert.Equal(TreeStatus.Completed, tree.Status);
        var finished = 0;
        for (var depth = 1; depth <= tree.Nodes.Max(n => n.Depth); depth++)
        {
            var candidates = tree.Nodes.Where(n => n.Depth == depth).ToList();
            var kept = candidates.Where(n => n.Visits > 0).ToList();
            Assert.True(kept.Count <= 2 - finished, $"depth {depth} kept {kept.Count}");
            var pruned = candidates.Except(kept);
            Assert.All(pruned, p => Assert.All(kept, k => Assert.True(k.StepValue >= p.StepValue)));
            Assert.All(candidates.Where(n => !n.IsLeaf), n => Assert.Contains(n, kept));
            // Candidates come only from the beam of the depth above.
            Assert.All(candidates, n => Assert.True(tree.Parent(n)!.Visits > 0));
            finished += kept.Count(n => n.IsTerminal);
        }
        Assert.Equal(2, finished);
        // The B expansions of a depth go to the model together; self-evaluation scores each of them in one call.
        Assert.Equal(model.StepRequests.Count, model.ScoreCalls.Count);
    }

    [Fact]
    public async Task AValueModelGuidesTheBeamToTheRightAnswer()
    {
        var model = new ScriptedLanguageModel(TwoBranches());
        var verifier = new TableVerifier(new Dictionary<string, double>
        {
            [RightStart] = 0.8, [WrongStart] = 0.1, ["So 2x = 4."] = 0.9, ["So 2x = 5."] = 0.2, ["So 2x = 6."] = 0.1,
            ["The answer is 4."] = 0.95, ["The answer is 5."] = 0.05, ["The answer is 6."] = 0.05,
        });
        var settings = new BeamSettings { World = World, BeamWidth = 1, Actions = 8, Scoring = new ScoringSettings { Weights = ScorerWeights.VerifierOnly } };

        var tree = await new BeamSearch(model, PromptFiles, settings, verifier).SearchAsync(TwoX);

        var best = tree.Terminals.Where(t => t.Visits > 0).MaxBy(t => t.StepValue)!;
        Assert.Equal("The answer is 4.", best.Text);
        Assert.True(best.IsCorrect);
        Assert.Equal([RightStart, "So 2x = 4.", "The answer is 4."], tree.Steps(best));
        Assert.Equal("1", tree.Search.Settings["beamWidth"]);
    }
}
