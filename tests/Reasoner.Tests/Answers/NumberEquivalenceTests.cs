using Reasoner.Core.Answers;
using Reasoner.Core.Problems;

namespace Reasoner.Tests.Answers;

public class NumberEquivalenceTests
{
    [Theory]
    [InlineData("1,000", "1000")]
    [InlineData("$18", "18")]
    [InlineData(@"\$18", "18")]
    [InlineData("18 dollars", "18")]
    [InlineData("18 cm", "18")]
    [InlineData("12 cm^2", "12")]
    [InlineData("5 hours", "5")]
    [InlineData("18.0", "18")]
    [InlineData("18.00", "18")]
    [InlineData("7.", "7")]
    [InlineData("25%", "25")]
    [InlineData("25%", "0.25")]
    [InlineData("50 percent", "50")]
    [InlineData("-5", "-5.0")]
    [InlineData("-$5", "-5")]
    [InlineData("3/4", "0.75")]
    [InlineData("0.75", "3/4")]
    [InlineData("1/3", "0.3333333333")]
    [InlineData(@"\frac{3}{4}", "0.75")]
    [InlineData("$1,234.50", "1234.5")]
    [InlineData("  42 ", "42")]
    [InlineData("x = 5", "5")]
    [InlineData("1000000", "1000000.0000001")]
    [InlineData(@"\text{18 apples}", "18")]
    public void Equivalent(string predicted, string reference) =>
        Assert.True(AnswerChecker.IsEquivalent(predicted, reference, AnswerKind.Number));

    [Theory]
    [InlineData("18", "180")]
    [InlineData("18", "-18")]
    [InlineData("0.75", "0.7")]
    [InlineData("3/4", "4/3")]
    [InlineData("1,000", "100")]
    [InlineData("5", "5.01")]
    [InlineData("2", "12")]
    [InlineData("18 or 19", "18")]
    [InlineData("0.333", "1/3")]
    [InlineData("25%", "2.5")]
    [InlineData("", "5")]
    [InlineData("abc", "5")]
    [InlineData("5", "")]
    public void NotEquivalent(string predicted, string reference) =>
        Assert.False(AnswerChecker.IsEquivalent(predicted, reference, AnswerKind.Number));
}
