using Reasoner.Models.Backends;
using Reasoner.Search;
using static Reasoner.Tests.Search.SearchKit;

namespace Reasoner.Tests.Search;

public class StepProposerTests
{
    [Fact]
    public async Task SiblingsComeFromOneRequestWithTheStepDelimiterAsStop()
    {
        var model = new ScriptedLanguageModel(TwoBranches());
        var session = Session(model);
        var proposal = new ProposalSettings { MaxStepTokens = 64, Temperature = 0.7, TopP = 0.9 };

        await Expander(model, proposal: proposal).ExpandAsync(session, session.Tree.Root, 5, CancellationToken.None);

        var request = Assert.Single(model.StepRequests);
        Assert.Equal((5, 64, 0.7, 0.9), (request.N, request.MaxTokens, request.Temperature, request.TopP));
        Assert.Equal(["\n"], request.Stop);
        Assert.Equal(session.SeedFor(session.Tree.Root, RequestSeeds.Propose), request.Seed);
        Assert.EndsWith("Question: What is 2x if x = 2?\nAnswer:\n", request.Prompt);
    }

    [Fact]
    public async Task DuplicateSamplesAreMergedIntoOneNodeWithTheirCount()
    {
        var script = new StepScript().After([], ("Let x = 2.", 0.5), ("Let  x = 2. ", 0.3), ("Let x = 3.", 0.2));
        var model = new ScriptedLanguageModel(script);
        var session = Session(model);

        var children = await Expander(model).ExpandAsync(session, session.Tree.Root, 12, CancellationToken.None);

        // "Let  x = 2. " differs only in whitespace, so at most two distinct steps remain of twelve samples.
        Assert.InRange(children.Count, 1, 2);
        Assert.Equal(children.Count, children.Select(c => StepProposer.NormalizeStep(c.Text)).Distinct().Count());
        Assert.Equal(12, children.Sum(c => 1 + c.DuplicateCount));
        Assert.Contains(children, c => c.DuplicateCount > 0);
    }

    [Fact]
    public async Task OversamplingDrawsMoreSamplesInOneRequestAndKeepsTheFirstKDistinctSteps()
    {
        // A confident policy: one step takes 70% of the mass, so two plain samples are often the same step.
        var script = new StepScript().After([], ("Let x = 2.", 0.7), ("Let x = 3.", 0.15), ("Let x = 4.", 0.15));
        var model = new ScriptedLanguageModel(script);
        var session = Session(model);

        var children = await Expander(model, proposal: new ProposalSettings { Oversampling = 8 })
            .ExpandAsync(session, session.Tree.Root, 2, CancellationToken.None);

        Assert.Equal(16, Assert.Single(model.StepRequests).N);
        Assert.Equal(2, children.Count);
        Assert.Equal(2, children.Select(c => StepProposer.NormalizeStep(c.Text)).Distinct().Count());
        // Repeats of a kept step are counted on it; distinct steps past the k-th are dropped, not counted.
        Assert.InRange(children.Sum(c => 1 + c.DuplicateCount), 2, 16);
        Assert.Throws<ArgumentException>(() => new StepProposer(model, new ProposalSettings { Oversampling = 0 }));
    }

    [Fact]
    public async Task PriorsAreLengthPenalisedProbabilitiesNormalisedOverSiblings()
    {
        var script = new StepScript().After([], ("One two.", 0.6), ("One two three four.", 0.4));
        var model = new ScriptedLanguageModel(script);
        var session = Session(model);

        var children = await Expander(model).ExpandAsync(session, session.Tree.Root, 16, CancellationToken.None);

        Assert.Equal(2, children.Count);
        var shortStep = Child(session.Tree, session.Tree.Root, "One two.");
        var longStep = Child(session.Tree, session.Tree.Root, "One two three four.");
        Assert.Equal((2, 4), (shortStep.TokenCount, longStep.TokenCount));
        Assert.Equal(Math.Log(0.6), shortStep.LogProb, 1e-12);
        Assert.Equal(Math.Log(0.4), longStep.LogProb, 1e-12);
        var rawShort = Math.Exp(Math.Log(0.6) / Math.Pow(2, 1.25));
        var rawLong = Math.Exp(Math.Log(0.4) / Math.Pow(4, 1.25));
        Assert.Equal(rawShort / (rawShort + rawLong), shortStep.Prior, 1e-12);
        Assert.Equal(1.0, shortStep.Prior + longStep.Prior, 1e-12);
    }

    [Fact]
    public async Task BlankLinesAreNotStepsButAnEmptyEndOfSequenceIs()
    {
        var script = new StepScript().After([],
            new ScriptedStep("", 0.4), new ScriptedStep(" ", 0.2) { EndsSequence = true }, new ScriptedStep("Let x = 2.", 0.4));
        var model = new ScriptedLanguageModel(script);
        var session = Session(model);

        var children = await Expander(model).ExpandAsync(session, session.Tree.Root, 20, CancellationToken.None);

        Assert.Equal(2, children.Count);
        var ended = Assert.Single(children, c => c.Text.Trim().Length == 0);
        Assert.True(ended.IsTerminal);
        Assert.False(ended.Truncated);
        Assert.True(children.Sum(c => 1 + c.DuplicateCount) < 20, "blank lines are dropped, not counted");
    }

    [Fact]
    public async Task ANodeThatGetsNoStepEndsTheSolution()
    {
        var script = new StepScript().After([], (RightStart, 1)).After([RightStart], ("", 1));
        var model = new ScriptedLanguageModel(script);
        var session = Session(model);
        var expander = Expander(model);
        var first = Assert.Single(await expander.ExpandAsync(session, session.Tree.Root, 2, CancellationToken.None));
        Assert.False(first.IsTerminal);

        Assert.Empty(await expander.ExpandAsync(session, first, 2, CancellationToken.None));

        Assert.True(first.IsTerminal);
        Assert.False(first.Truncated);
        Assert.Equal(-1, first.Outcome);
        Assert.Equal(first.SelfEval!.Value - 1, first.StepValue!.Value, 1e-12);
        await Assert.ThrowsAsync<ArgumentException>(() => expander.ExpandAsync(session, first, 2, CancellationToken.None));
    }

    [Fact]
    public void RequestSeedsDependOnTreeSeedProblemNodeAndPurposeOnly()
    {
        var seed = RequestSeeds.For(7, "p", 3, RequestSeeds.Propose);
        Assert.Equal(seed, RequestSeeds.For(7, "p", 3, RequestSeeds.Propose));
        Assert.True(seed >= 0);
        Assert.Equal(5, new[]
        {
            seed, RequestSeeds.For(8, "p", 3, RequestSeeds.Propose), RequestSeeds.For(7, "q", 3, RequestSeeds.Propose),
            RequestSeeds.For(7, "p", 4, RequestSeeds.Propose), RequestSeeds.For(7, "p", 3, RequestSeeds.Rollout),
        }.Distinct().Count());
    }

    [Fact]
    public async Task FinishReasonsReachTheWorld()
    {
        var script = new StepScript().After([], ("Let x be two and so on.", 1));
        var model = new ScriptedLanguageModel(script);
        var session = Session(model);

        var child = Assert.Single(await Expander(model, proposal: new ProposalSettings { MaxStepTokens = 3 })
            .ExpandAsync(session, session.Tree.Root, 1, CancellationToken.None));

        Assert.Equal("Let x be", child.Text);
        Assert.Equal(3, child.TokenCount);
        Assert.True(child.IsTerminal && child.Truncated);
        Assert.Equal(FinishReason.Length, (await model.CompleteAsync(model.StepRequests[0]))[0].Finish);
    }
}
