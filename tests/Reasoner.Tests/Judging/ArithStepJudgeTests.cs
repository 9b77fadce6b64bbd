using Reasoner.Core.Judging;
using Reasoner.Core.Problems;

namespace Reasoner.Tests.Judging;

public class ArithStepJudgeTests
{
    // Reference chain: 9 - 3 = 6, 6 / 3 = 2, 2 + 6 = 8.
    private static readonly Problem Ravi = new("arith-ravi", "arith",
        "Ravi has 9 stamps. He loses 3 stamps. He splits the stamps into 3 equal groups and keeps one group. He wins 6 more stamps. How many stamps does Ravi have now?",
        "8", AnswerKind.Number)
    {
        ReferenceSteps =
        [
            "Ravi has 9 stamps and loses 3, so he has 9 - 3 = 6 stamps.",
            "He keeps one of 3 equal groups, so he has 6 / 3 = 2 stamps.",
            "He wins 6 more, so he has 2 + 6 = 8 stamps.",
            "The answer is 8.",
        ],
    };

    // Reference chain: 5 + 4 = 9, 9 + 3 = 12, 5 + 12 = 17 (together).
    private static readonly Problem DanAndAnn = new("arith-dan", "arith",
        "Dan has 5 cards. Ann has 4 more cards than Dan. She gets 3 more cards. How many cards do Dan and Ann have together?",
        "17", AnswerKind.Number)
    {
        ReferenceSteps =
        [
            "Ann has 4 more than Dan, so she has 5 + 4 = 9 cards.",
            "She gets 3 more, so she has 9 + 3 = 12 cards.",
            "Together they have 5 + 12 = 17 cards.",
            "The answer is 17.",
        ],
    };

    private static StepJudgement Last(Problem problem, params string[] steps) => StepJudges.For(problem).JudgeSolution(steps)[^1];

    [Fact]
    public void TheReferenceSolutionIsValidAndEndsCorrect()
    {
        var labels = StepJudges.For(Ravi).JudgeSolution(Ravi.ReferenceSteps!).Select(j => j.Label);
        Assert.Equal([StepLabel.Valid, StepLabel.Valid, StepLabel.Valid, StepLabel.Correct], labels);
    }

    [Theory]
    [InlineData("Ravi has 9 stamps and loses 3, so he has 9 - 3 = 5 stamps.", "false arithmetic")]
    [InlineData("Ravi has 11 stamps and loses 3, so he has 11 - 3 = 8 stamps.", "no such amount")]
    [InlineData("Ravi has 9 stamps and loses 4, so he has 9 - 4 = 5 stamps.", "no such change")]
    [InlineData("Ravi has 9 stamps and loses 3, so he has 9 + 3 = 12 stamps.", "is not what")]
    [InlineData("Ravi has 9 stamps and loses 3, so he has 9 - 3 = 6 coins.", "counts stamps")]
    [InlineData("Mia has 9 stamps and loses 3, so she has 9 - 3 = 6 stamps.", "Mia is not in the problem")]
    [InlineData("He keeps one of 3 equal groups, so he has 9 / 3 = 3 stamps.", "never computes")]
    [InlineData("He gives away  gives away 2, so he has 9 - 2 = 7 stamps.", "malformed")]
    [InlineData("He has 9 - = 6 stamps.", "malformed equation")]
    [InlineData("She stamps.", "malformed")]
    public void WrongFirstStepsAreInvalid(string step, string reason)
    {
        var judgement = Last(Ravi, step);
        Assert.Equal(StepLabel.Invalid, judgement.Label);
        Assert.Contains(reason, judgement.Reason);
    }

    [Fact]
    public void AQuantityOnlyAnInvalidStepDerivedIsNotAvailable()
    {
        var labels = StepJudges.For(DanAndAnn).JudgeSolution(
        [
            "Ann has 4 more than Dan, so she has 5 + 4 = 10 cards.",
            "She gets 3 more, so she has 9 + 3 = 12 cards.",
        ]).Select(j => j.Label);
        Assert.Equal([StepLabel.Invalid, StepLabel.Invalid], labels);
    }

    [Fact]
    public void MergedStepsAndAnotherOrderAreValidWhenTheyLandOnTheChain()
    {
        // Two reference steps in one.
        Assert.Equal(StepLabel.Valid, Last(Ravi, "Ravi has 9 stamps and loses 3 and keeps one of 3 equal groups, so he has (9 - 3) / 3 = 2 stamps.").Label);
        // Another order: Ann's changes added up first (4 + 3 = 7 is not on the chain, but the step ends on 12).
        Assert.Equal(StepLabel.Valid, Last(DanAndAnn, "Ann has 4 more than Dan and gets 3 more, so she has 4 + 3 = 7 cards, so she has 5 + 7 = 12 cards.").Label);
        Assert.Equal(StepLabel.Invalid, Last(DanAndAnn, "Ann gets 3 more, so she has 5 + 3 = 8 cards.").Label);
    }

    [Fact]
    public void RestatementsAndRepeatsAreNeutral()
    {
        Assert.Equal(StepLabel.Neutral, Last(Ravi, "Ravi has 9 stamps.").Label);
        Assert.Equal(StepLabel.Neutral, Last(Ravi, Ravi.ReferenceSteps![0], "Ravi has 9 stamps and loses 3, so he has 9 - 3 = 6 stamps.").Label);
        Assert.Equal(StepLabel.Neutral, Last(Ravi, Ravi.ReferenceSteps![0], "He has 6 stamps.").Label);
    }

    [Fact]
    public void AnAnswerIsCorrectOnlyWhenRightAndDerived()
    {
        var steps = Ravi.ReferenceSteps!;
        Assert.Equal(StepLabel.Correct, Last(Ravi, steps[0], steps[1], steps[2], "The answer is 8.").Label);
        Assert.Equal(StepLabel.Incorrect, Last(Ravi, steps[0], steps[1], steps[2], "The answer is 9.").Label);
        var guess = Last(Ravi, steps[0], "The answer is 8.");
        Assert.Equal(StepLabel.Invalid, guess.Label);
        Assert.Contains("guess", guess.Reason);
        // The equation before the answer in the same step counts.
        Assert.Equal(StepLabel.Correct, Last(Ravi, steps[0], steps[1], "He wins 6 more, so he has 2 + 6 = 8 stamps. The answer is 8.").Label);
        Assert.Equal(StepLabel.Invalid, Last(Ravi, steps[0], steps[1], "He wins 6 more, so he has 2 + 6 = 9 stamps. The answer is 8.").Label);
    }

    [Fact]
    public void TogetherAddsBothPeople()
    {
        var steps = DanAndAnn.ReferenceSteps!;
        Assert.Equal(StepLabel.Valid, Last(DanAndAnn, steps[0], steps[1], "Together they have 5 + 12 = 17 cards.").Label);
        Assert.Equal(StepLabel.Invalid, Last(DanAndAnn, steps[0], steps[1], "Together they have 5 + 12 = 18 cards.").Label);
        var self = Last(DanAndAnn, "Ann has 4 more than Ann, so she has 5 + 4 = 9 cards.");
        Assert.Equal(StepLabel.Invalid, self.Label);
        Assert.Contains("themself", self.Reason);
    }

    [Fact]
    public void AProblemWithoutReferenceStepsCannotBeJudged()
    {
        var bare = new Problem("arith-x", "arith", "Tom has 2 apples. How many apples does Tom have?", "2", AnswerKind.Number);
        Assert.Contains("reference steps", Assert.Throws<ArgumentException>(() => StepJudges.For(bare)).Message);
        var gsm = new Problem("g", "gsm8k", "q", "1", AnswerKind.Number);
        Assert.Contains("gsm8k", Assert.Throws<ArgumentException>(() => StepJudges.For(gsm)).Message);
    }
}
