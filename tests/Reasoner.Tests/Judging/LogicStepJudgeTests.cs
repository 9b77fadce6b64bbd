using Reasoner.Core.Judging;
using Reasoner.Core.Problems;

namespace Reasoner.Tests.Judging;

public class LogicStepJudgeTests
{
    // Gold chain: jompus → lorpus → fompus → tumpus, not small. Distractors: another person, another branch.
    private static readonly Problem Fae = new("logic-fae", "logic",
        "Every jompus is a lorpus. Every bompus is small. Fae is a jompus. Every lorpus is a fompus. Every fompus is a tumpus. " +
        "Every tumpus is a grimpus. Every fompus is a zumpus. Every tumpus is not small. Jo is a bompus. Is Fae small?",
        "no", AnswerKind.YesNo)
    {
        ReferenceSteps =
        [
            "Fae is a jompus. Every jompus is a lorpus. So Fae is a lorpus.",
            "Fae is a lorpus. Every lorpus is a fompus. So Fae is a fompus.",
            "Fae is a fompus. Every fompus is a tumpus. So Fae is a tumpus.",
            "Fae is a tumpus. Every tumpus is not small. So Fae is not small.",
            "The answer is no.",
        ],
    };

    private static StepJudgement Last(params string[] steps) => StepJudges.For(Fae).JudgeSolution(steps)[^1];

    [Fact]
    public void TheReferenceSolutionIsValidAndEndsCorrect()
    {
        var labels = StepJudges.For(Fae).JudgeSolution(Fae.ReferenceSteps!).Select(j => j.Label);
        Assert.Equal([StepLabel.Valid, StepLabel.Valid, StepLabel.Valid, StepLabel.Valid, StepLabel.Correct], labels);
    }

    [Theory]
    [InlineData("Fae is a jompus. Every jompus is a lorpus. So Fae is a fompus.", "do not give it")] // skipped hop
    [InlineData("Fae is a jompus. Every jompus is a zumpus. So Fae is a zumpus.", "not a rule of the problem")] // wrong hop
    [InlineData("Fae is a lorpus. Every lorpus is a fompus. So Fae is a fompus.", "neither given nor derived")] // premise not derived yet
    [InlineData("Fae is a jompus. So Fae is a lorpus.", "do not give it")] // no rule cited
    [InlineData("Fae is a wumpus. Every wumpus is a lorpus. So Fae is a lorpus.", "no category")]
    [InlineData("Alex is a jompus. Every jompus is a lorpus. So Alex is a lorpus.", "nobody")]
    [InlineData("Fae is a3N So Fae is a lorpus.", "malformed")]
    [InlineData("Fae is not a bompus.", "what something is not")]
    public void WrongFirstStepsAreInvalid(string step, string reason)
    {
        var judgement = Last(step);
        Assert.Equal(StepLabel.Invalid, judgement.Label);
        Assert.Contains(reason, judgement.Reason);
    }

    [Fact]
    public void FlippedNegationIsInvalid()
    {
        var steps = Fae.ReferenceSteps!;
        Assert.Equal(StepLabel.Invalid, Last(steps[0], steps[1], steps[2], "Fae is a tumpus. Every tumpus is not small. So Fae is small.").Label);
        Assert.Equal(StepLabel.Invalid, Last(steps[0], steps[1], steps[2], "Fae is a tumpus. Every tumpus is small. So Fae is small.").Label);
    }

    [Fact]
    public void ChainedRulesInOneStepAreValidWhenEveryRuleIsCited()
    {
        Assert.Equal(StepLabel.Valid, Last("Fae is a jompus. Every jompus is a lorpus. Every lorpus is a fompus. So Fae is a fompus.").Label);
        // A sound detour off the gold chain is still a valid deduction.
        Assert.Equal(StepLabel.Valid, Last(Fae.ReferenceSteps![0], Fae.ReferenceSteps![1], "Fae is a fompus. Every fompus is a zumpus. So Fae is a zumpus.").Label);
        // About somebody else, from that person's given fact.
        Assert.Equal(StepLabel.Valid, Last("Jo is a bompus. Every bompus is small. So Jo is small.").Label);
    }

    [Fact]
    public void RestatementsAreNeutral()
    {
        Assert.Equal(StepLabel.Neutral, Last("Fae is a jompus.").Label);
        Assert.Equal(StepLabel.Neutral, Last(Fae.ReferenceSteps![0], Fae.ReferenceSteps![0]).Label);
    }

    [Fact]
    public void AnAnswerIsCorrectOnlyWhenRightAndDerived()
    {
        var steps = Fae.ReferenceSteps!;
        Assert.Equal(StepLabel.Incorrect, Last(steps[0], steps[1], steps[2], steps[3], "The answer is yes.").Label);
        var guess = Last(steps[0], "The answer is no.");
        Assert.Equal(StepLabel.Invalid, guess.Label);
        Assert.Contains("guess", guess.Reason);
    }
}
