using Reasoner.Core.Answers;
using Reasoner.Core.Problems;

namespace Reasoner.Tests.Answers;

public class ChoiceAndYesNoTests
{
    [Theory]
    [InlineData("C", "c", true)]
    [InlineData("(C)", "C", true)]
    [InlineData("(c)", "C", true)]
    [InlineData("C)", "C", true)]
    [InlineData("C.", "c", true)]
    [InlineData("3", "C", true)]
    [InlineData("A", "1", true)]
    [InlineData(@"\text{(B)}", "B", true)]
    [InlineData("Option D", "D", true)]
    [InlineData("F", "f", true)]
    [InlineData("Paris", "paris", true)]
    [InlineData("A", "B", false)]
    [InlineData("(A)", "(E)", false)]
    [InlineData("2", "C", false)]
    [InlineData("A", "", false)]
    public void Choice(string predicted, string reference, bool expected) =>
        Assert.Equal(expected, AnswerChecker.IsEquivalent(predicted, reference, AnswerKind.Choice));

    [Theory]
    [InlineData("Yes", "yes", true)]
    [InlineData("yes.", "Yes", true)]
    [InlineData("YES!", "yes", true)]
    [InlineData("true", "Yes", true)]
    [InlineData("False", "no", true)]
    [InlineData("No.", "no", true)]
    [InlineData(@"\text{No}", "no", true)]
    [InlineData("yes", "no", false)]
    [InlineData("true", "false", false)]
    [InlineData("maybe", "yes", false)]
    [InlineData("yes and no", "yes", false)]
    public void YesNo(string predicted, string reference, bool expected) =>
        Assert.Equal(expected, AnswerChecker.IsEquivalent(predicted, reference, AnswerKind.YesNo));
}
