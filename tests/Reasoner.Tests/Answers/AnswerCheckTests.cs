using Reasoner.Core.Answers;
using Reasoner.Core.Problems;

namespace Reasoner.Tests.Answers;

public class AnswerCheckTests
{
    [Fact]
    public void ChecksANumberProblem() =>
        Assert.Equal(new AnswerCheck("18", true), AnswerChecker.Check("9 * 2 = 18\n#### 18", Make("18", AnswerKind.Number)));

    [Fact]
    public void ChecksAMathProblemByValue() =>
        Assert.Equal(new AnswerCheck("0.5", true), AnswerChecker.Check(@"so $\boxed{0.5}$", Make(@"\frac{1}{2}", AnswerKind.Math)));

    [Fact]
    public void ChecksAChoiceLabel() =>
        Assert.Equal(new AnswerCheck("B", true), AnswerChecker.Check("The answer is (b).", Make("B", AnswerKind.Choice)));

    [Fact]
    public void ChecksAChoiceNamedByItsText()
    {
        var problem = Make("A", AnswerKind.Choice) with { Choices = [new("A", "Paris"), new("B", "London")] };
        Assert.Equal(new AnswerCheck("A", true), AnswerChecker.Check("The answer is Paris.", problem));
    }

    [Fact]
    public void ChecksAMathProblemWithALetterAnswer() =>
        Assert.True(AnswerChecker.Check(@"\boxed{C}", Make(@"\text{(C)}", AnswerKind.Math)).IsCorrect);

    [Fact]
    public void RejectsAWrongYesNo() =>
        Assert.Equal(new AnswerCheck("no", false), AnswerChecker.Check("So the answer is no.", Make("Yes", AnswerKind.YesNo)));

    [Fact]
    public void ReportsAMissingAnswer() =>
        Assert.Equal(new AnswerCheck(null, false), AnswerChecker.Check("I could not solve it.", Make("7", AnswerKind.Math)));

    private static Problem Make(string answer, AnswerKind kind) => new("p1", "test", "question", answer, kind);
}
