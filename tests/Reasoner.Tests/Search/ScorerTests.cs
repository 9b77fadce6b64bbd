using Reasoner.Core.Problems;
using Reasoner.Core.Trees;
using Reasoner.Search;
using static Reasoner.Tests.Search.SearchKit;

namespace Reasoner.Tests.Search;

public class ScorerTests
{
    private static readonly ScoringSettings SelfEvalOnly = new() { Weights = ScorerWeights.SelfEvaluation };

    [Theory]
    [InlineData("4", "The answer is 4.0.", true)]
    [InlineData("1000", "The answer is $1,000.", true)]
    [InlineData("0.5", "The answer is 1/2.", true)]
    [InlineData("4", "The answer is 5.", false)]
    [InlineData("4", "So the total is 4 apples.", true)]
    [InlineData("4", "I give up.", false)]
    public void OutcomeChecksTheWholeSolutionAgainstTheReference(string reference, string lastStep, bool correct)
    {
        var tree = new PreferenceTree
        {
            Problem = TwoX with { Answer = reference },
            ModelId = "m",
            Search = new SearchSettings("test", new Dictionary<string, string>()),
        };
        var first = tree.AddChild(tree.Root, "We work it out.");
        var last = tree.AddChild(first, lastStep);
        last.IsTerminal = true;

        OutcomeScorer.Score(tree, first);
        OutcomeScorer.Score(tree, last);

        Assert.Equal((null, null, (string?)null), (first.Outcome, first.IsCorrect, first.Answer));
        Assert.Equal(correct, last.IsCorrect);
        Assert.Equal(correct ? 1 : -1, last.Outcome);
        Assert.Equal(correct || lastStep.Contains("5."), last.Answer is not null);
    }

    [Fact]
    public void ACutOffSolutionIsWrongWhateverItSays()
    {
        var tree = new PreferenceTree { Problem = TwoX, ModelId = "m", Search = new SearchSettings("test", new Dictionary<string, string>()) };
        var node = tree.AddChild(tree.Root, "The answer is 4");
        node.IsTerminal = node.Truncated = true;

        OutcomeScorer.Score(tree, node);

        Assert.Equal((-1.0, false, (string?)null), (node.Outcome, node.IsCorrect, node.Answer));
    }

    [Fact]
    public async Task SelfEvaluationScoresAWholeExpansionInOneCall()
    {
        var model = new ScriptedLanguageModel(TwoBranches());
        var session = Session(model);

        var children = await Expander(model, SelfEvalOnly).ExpandAsync(session, session.Tree.Root, 8, CancellationToken.None);

        Assert.Equal(2, children.Count);
        var call = Assert.Single(model.ScoreCalls);
        Assert.EndsWith("Question: What is 2x if x = 2?\nSteps so far:\n(none)\nLatest step:\n", call.Prompt);
        Assert.Equal(4, call.Continuations.Count);
        Assert.Equal(children[0].Text + "\nIs the latest step correct?\nAnswer: (A", call.Continuations[0]);
        Assert.Equal(children[0].Text + "\nIs the latest step correct?\nAnswer: (B", call.Continuations[1]);
        Assert.Equal(0.9, Child(session.Tree, session.Tree.Root, RightStart).SelfEval!.Value, 1e-12);
        Assert.Equal(0.3, Child(session.Tree, session.Tree.Root, WrongStart).SelfEval!.Value, 1e-12);
        Assert.All(children, c => Assert.Equal(c.SelfEval, c.StepValue));
        Assert.All(children, c => Assert.Null(c.MonteCarloValue));
    }

    [Fact]
    public async Task SelfEvaluationPromptListsTheStepsBeforeTheJudgedOne()
    {
        var model = new ScriptedLanguageModel(TwoBranches());
        var session = Session(model);
        var expander = Expander(model, SelfEvalOnly);
        var root = session.Tree.Root;
        await expander.ExpandAsync(session, root, 8, CancellationToken.None);

        await expander.ExpandAsync(session, Child(session.Tree, root, WrongStart), 2, CancellationToken.None);

        Assert.EndsWith($"Steps so far:\n{WrongStart}\nLatest step:\n", model.ScoreCalls[^1].Prompt);
        Assert.Equal(0.6, session.Tree.Nodes[^1].SelfEval!.Value, 1e-12);
    }

    [Fact]
    public async Task MonteCarloValueIsTheShareOfRolloutsReachingTheReference()
    {
        var model = new ScriptedLanguageModel(TwoBranches());
        var session = Session(model);
        var scoring = new ScoringSettings { Weights = ScorerWeights.TreePlv, MonteCarlo = new MonteCarloSettings { Rollouts = 40 } };

        var children = await Expander(model, scoring).ExpandAsync(session, session.Tree.Root, 8, CancellationToken.None);

        // One request of n = 40 per child, running to the end of the solution.
        Assert.Equal(2, model.RolloutRequests.Count);
        Assert.All(model.RolloutRequests, r => Assert.Equal((40, 0), (r.N, r.Stop.Count)));
        Assert.Equal(children.Select(c => session.SeedFor(c, RequestSeeds.Rollout)).Order(), model.RolloutRequests.Select(r => r.Seed!.Value).Order());
        Assert.Equal(0.0, Child(session.Tree, session.Tree.Root, WrongStart).MonteCarloValue);
        // From "Let x = 2." the script reaches 4 with probability .8.
        var right = Child(session.Tree, session.Tree.Root, RightStart);
        Assert.InRange(right.MonteCarloValue!.Value, 0.6, 0.95);
        Assert.All(children, c => Assert.Equal(c.MonteCarloValue, c.StepValue));
        Assert.Empty(model.ScoreCalls);
    }

    [Fact]
    public async Task TerminalStepsGetTheirOwnOutcomeAsMonteCarloValueWithoutRollouts()
    {
        var script = new StepScript().After([], ("The answer is 4.", 0.5), ("The answer is 9.", 0.5));
        var model = new ScriptedLanguageModel(script);
        var session = Session(model);

        var children = await Expander(model, new ScoringSettings { Weights = ScorerWeights.TreePlv })
            .ExpandAsync(session, session.Tree.Root, 10, CancellationToken.None);

        Assert.Empty(model.RolloutRequests);
        Assert.Equal(2, children.Count);
        Assert.All(children, c => Assert.Equal(c.IsCorrect == true ? 1.0 : 0.0, c.MonteCarloValue));
    }

    [Fact]
    public async Task ARolloutIsReadUpToItsFirstAnswer()
    {
        var script = new StepScript()
            .After([], (RightStart, 1))
            .After([RightStart], new ScriptedStep("The answer is 4.", 1) { EndsSequence = false })
            .After([RightStart, "The answer is 4."], ("The answer is 5.", 1));
        var model = new ScriptedLanguageModel(script);
        var session = Session(model);

        var child = Assert.Single(await Expander(model, new ScoringSettings { Weights = ScorerWeights.TreePlv })
            .ExpandAsync(session, session.Tree.Root, 1, CancellationToken.None));

        Assert.Equal(1.0, child.MonteCarloValue);
    }

    [Fact]
    public async Task ARolloutCutByItsTokenLimitIsWrong()
    {
        var model = new ScriptedLanguageModel(TwoBranches());
        var session = Session(model);
        var scoring = new ScoringSettings { Weights = ScorerWeights.TreePlv, MonteCarlo = new MonteCarloSettings { MaxTokens = 5 } };

        var children = await Expander(model, scoring).ExpandAsync(session, session.Tree.Root, 8, CancellationToken.None);

        Assert.All(children, c => Assert.Equal(0.0, c.MonteCarloValue));
    }

    [Fact]
    public async Task AVerifierScoresEachExpansionsPrefixesInOneCall()
    {
        var model = new ScriptedLanguageModel(TwoBranches());
        var session = Session(model);
        var verifier = new TableVerifier(new Dictionary<string, double> { [RightStart] = 0.75, [WrongStart] = -0.25 });
        var expander = Expander(model, new ScoringSettings { Weights = ScorerWeights.VerifierOnly }, verifier: verifier);

        await expander.ExpandAsync(session, session.Tree.Root, 8, CancellationToken.None);

        Assert.Equal(1, verifier.Calls);
        var right = Child(session.Tree, session.Tree.Root, RightStart);
        Assert.Equal((0.75, 0.75), (right.VerifierScore, right.StepValue));
        Assert.Equal(-0.25, Child(session.Tree, session.Tree.Root, WrongStart).VerifierScore);
        Assert.Null(right.SelfEval);
    }

    [Fact]
    public void AVerifierWeightNeedsAVerifier() =>
        Assert.Throws<ArgumentException>(() => new StepScoring(new ScoringSettings { Weights = ScorerWeights.VerifierOnly }, PromptFiles));

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(4, 1.0)]
    [InlineData(5, 1.0)]
    [InlineData(6, 2.0)]
    [InlineData(8, 4.0)]
    public void WeightsCombineScoresAndDampSelfEvaluationDeepInASolutionAsMctsDpo(int depth, double selfEvalDivisor)
    {
        var node = new TreeNode { Depth = depth, SelfEval = 0.8, Outcome = -1, MonteCarloValue = 0.5, VerifierScore = 2 };
        var weights = new ScorerWeights { Outcome = 1, SelfEval = 1, MonteCarlo = 0.5, Verifier = 0.25 };

        Assert.Equal(-1 + 0.8 / selfEvalDivisor + 0.25 + 0.5, weights.Combine(node), 1e-12);
        Assert.Equal(0.8 / selfEvalDivisor, ScorerWeights.MctsDpo.Combine(new TreeNode { Depth = depth, SelfEval = 0.8 }), 1e-12);
    }

    [Fact]
    public void OnlyWeightedScorersRunAndOutcomeAlwaysDoes()
    {
        Assert.Equal(["outcome", "self-eval"], new StepScoring(new ScoringSettings { Weights = ScorerWeights.MctsDpo }, PromptFiles).ScorerNames);
        Assert.Equal(["outcome", "monte-carlo"], new StepScoring(new ScoringSettings { Weights = ScorerWeights.TreePlv }, PromptFiles).ScorerNames);
        Assert.Equal(["outcome", "self-eval", "monte-carlo", "verifier"], new StepScoring(
            new ScoringSettings { Weights = new ScorerWeights { SelfEval = 1, MonteCarlo = 1, Verifier = 1 } }, PromptFiles,
            new TableVerifier(new Dictionary<string, double>())).ScorerNames);
    }

    [Fact]
    public void EachAlgorithmStartsFromItsPapersWeights()
    {
        Assert.Equal(ScorerWeights.MctsDpo, new MctsSettings().Scoring.Weights);
        Assert.Equal(ScorerWeights.TreePlv, new BestFirstSettings().Scoring.Weights);
        Assert.Equal(ScorerWeights.SelfEvaluation, new BeamSettings().Scoring.Weights);
        Assert.Equal(8, new BestFirstSettings().Scoring.MonteCarlo.Rollouts);
    }

    [Fact]
    public async Task ChoiceProblemsAreJudgedByTheirLabel()
    {
        var problem = new Problem("c1", "csqa", "Where do fish live?", "B", AnswerKind.Choice)
        {
            Choices = [new AnswerChoice("A", "trees"), new AnswerChoice("B", "water")],
        };
        var script = new StepScript().After([], ("Fish live in water.", 1)).After(["Fish live in water."], ("The answer is (B).", 0.5), ("The answer is (A).", 0.5));
        var model = new ScriptedLanguageModel(script);
        var session = Session(model, problem: problem);
        var expander = Expander(model);
        var first = Assert.Single(await expander.ExpandAsync(session, session.Tree.Root, 1, CancellationToken.None));

        var answers = await expander.ExpandAsync(session, first, 10, CancellationToken.None);

        Assert.Equal(2, answers.Count);
        Assert.All(answers, a => Assert.Equal(a.Text.Contains("(B)"), a.IsCorrect));
        Assert.All(answers, a => Assert.Equal(a.Text.Contains("(B)") ? "B" : "A", a.Answer));
    }
}
