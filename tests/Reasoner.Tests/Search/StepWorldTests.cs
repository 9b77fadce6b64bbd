using Reasoner.Core.Problems;
using Reasoner.Core.Trees;
using Reasoner.Models.Backends;
using Reasoner.Search;
using static Reasoner.Tests.Search.SearchKit;

namespace Reasoner.Tests.Search;

public class StepWorldTests
{
    private static readonly StepWorld World = new(PromptFiles, new StepWorldSettings { DepthLimit = 4, MaxSolutionTokens = 50 });

    [Theory]
    [InlineData("So 2x = 4.", FinishReason.Stop, 1, 10, StepEnd.Continues)]
    [InlineData("The answer is 4.", FinishReason.Stop, 1, 10, StepEnd.Answered)]
    [InlineData("The answer is 4.", FinishReason.EndOfSequence, 4, 10, StepEnd.Answered)]
    [InlineData("#### 4", FinishReason.Stop, 2, 10, StepEnd.Answered)]
    [InlineData("So 2x = 4.", FinishReason.EndOfSequence, 2, 10, StepEnd.EndOfSequence)]
    [InlineData("The answer is 4", FinishReason.Length, 2, 10, StepEnd.StepTokenLimit)]
    [InlineData("So 2x = 4.", FinishReason.Stop, 4, 10, StepEnd.DepthLimit)]
    [InlineData("So 2x = 4.", FinishReason.Stop, 2, 50, StepEnd.SolutionTokenLimit)]
    // A number in a step is not a final answer: only an explicit marker ends the solution.
    [InlineData("We have 4 apples.", FinishReason.Stop, 1, 10, StepEnd.Continues)]
    public void StepsEndTheSolutionByAnswerEndOfSequenceOrLimit(string step, FinishReason finish, int depth, int tokens, StepEnd expected)
    {
        var end = World.Classify(TwoX, step, finish, depth, tokens);
        Assert.Equal(expected, end);
        Assert.Equal(expected != StepEnd.Continues, end.IsTerminal());
        Assert.Equal(expected is StepEnd.StepTokenLimit or StepEnd.DepthLimit or StepEnd.SolutionTokenLimit, end.IsTruncated());
    }

    [Fact]
    public void TheInitialStateIsTheSolvePromptOfTheChosenStyle()
    {
        var logic = new Problem("l1", "logic", "Is Alex cold?", "no", AnswerKind.YesNo);
        Assert.Equal("Question: Is Alex cold?\nAnswer:\n", new StepWorld(PromptFiles, SearchKit.World).InitialState(logic));
        var fewShot = World.InitialState(logic);
        Assert.Equal(PromptFiles.Get("logic/solve").Render(new Dictionary<string, string> { ["question"] = "Is Alex cold?" }), fewShot);
        Assert.EndsWith("Question: Is Alex cold?\nAnswer:\n", fewShot);
    }

    [Fact]
    public async Task StateTextIsThePromptFollowedByEachStepAndItsDelimiter()
    {
        var model = new ScriptedLanguageModel(new StepScript().After([], ("A.", 1)).After(["A."], ("B.", 1)));
        var session = Session(model);
        var expander = Expander(model);
        var a = (await expander.ExpandAsync(session, session.Tree.Root, 1, CancellationToken.None))[0];
        var b = (await expander.ExpandAsync(session, a, 1, CancellationToken.None))[0];

        Assert.Equal("Question: What is 2x if x = 2?\nAnswer:\nA.\nB.\n", session.StateText(b));
        Assert.Equal(["A.", "B."], ScriptedLanguageModel.StepsIn(session.StateText(b)));
    }

    [Fact]
    public async Task SearchesStopAtTheDepthLimitAndMarkTheCutSolution()
    {
        var chain = new StepScript().Otherwise(steps => [new ScriptedStep($"Step {steps.Count + 1}.", 1)]);
        var model = new ScriptedLanguageModel(chain);
        var settings = new BeamSettings { World = SearchKit.World with { DepthLimit = 3 }, BeamWidth = 1, Actions = 1 };

        var tree = await new BeamSearch(model, PromptFiles, settings).SearchAsync(TwoX);

        Assert.Equal(TreeStatus.Completed, tree.Status);
        Assert.Equal(3, tree.Nodes.Max(n => n.Depth));
        var last = tree.Nodes.Single(n => n.Depth == 3);
        Assert.True(last.IsTerminal && last.Truncated);
        Assert.Equal((-1.0, false, null), (last.Outcome, last.IsCorrect, last.Answer));
        Assert.Equal(PreferenceLevel.FormatError, TreeViews.LevelOf(last));
    }

    [Fact]
    public async Task SearchesStopAtTheSolutionTokenLimit()
    {
        var chain = new StepScript().Otherwise(steps => [new ScriptedStep($"Step {steps.Count + 1} has five words.", 1)]);
        var model = new ScriptedLanguageModel(chain);
        var settings = new BeamSettings { World = SearchKit.World with { DepthLimit = 10, MaxSolutionTokens = 12 }, BeamWidth = 1, Actions = 1 };

        var tree = await new BeamSearch(model, PromptFiles, settings).SearchAsync(TwoX);

        var last = tree.Nodes.Single(n => n.IsTerminal);
        Assert.Equal(3, last.Depth);
        Assert.True(last.Truncated);
        Assert.Equal(15, tree.PathTo(last).Sum(n => n.TokenCount));
    }
}
