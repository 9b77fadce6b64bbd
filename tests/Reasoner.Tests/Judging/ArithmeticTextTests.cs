using Reasoner.Core.Judging;

namespace Reasoner.Tests.Judging;

public class ArithmeticTextTests
{
    [Theory]
    [InlineData("so he has 9 - 3 = 6 stamps.", true, 6, new[] { 9.0, 3 })]
    [InlineData("(9 - 3) / 3 = 2", true, 2, new[] { 9.0, 3, 3 })]
    [InlineData("3 x 4 = 12 and 2 × 6 = 12", true, 12, new[] { 2.0, 6 })]
    [InlineData("1,000 + 5 = 1,005", true, 1005, new[] { 1000.0, 5 })]
    [InlineData("2 + 3 * 4 = 14", true, 14, new[] { 2.0, 3, 4 })]
    [InlineData("17 + 3 = 16", false, 16, new[] { 17.0, 3 })]
    [InlineData("7 / 2 = 3.5", true, 3.5, new[] { 7.0, 2 })]
    public void EquationsAreEvaluatedWithPrecedence(string text, bool isTrue, double value, double[] lastOperands)
    {
        var read = ArithmeticText.Read(text);
        Assert.Null(read.Malformed);
        var last = read.Equations[^1];
        Assert.Equal(isTrue, last.IsTrue);
        Assert.Equal(value, last.Value);
        Assert.Equal(lastOperands, last.Operands);
    }

    [Theory]
    [InlineData("he has 7 + = 12 apples")]
    [InlineData("he has 8 * 2 =  stickers")]
    [InlineData("6 - - 4 = 4")]
    [InlineData("9 2 + 2 = 10")]
    [InlineData("(3 + 4 = 7")]
    public void BrokenEquationsAreMalformed(string text) => Assert.NotNull(ArithmeticText.Read(text).Malformed);

    [Fact]
    public void NumbersOutsideEquationsAreMentions()
    {
        var read = ArithmeticText.Read("Tom has 3 bags with 4 apples in each, so he has 3 * 4 = 12 apples.");
        Assert.Equal([3.0, 4], read.Mentions);
        Assert.Single(read.Equations);
        Assert.Equal('*', read.Equations[0].BinaryOperation);
        Assert.Null(ArithmeticText.Read("2 + 3 + 4 = 9").Equations[0].BinaryOperation);
        // A repeat written differently is the same computation.
        Assert.Equal(ArithmeticText.Read("9-3=6").Equations[0].Canonical, ArithmeticText.Read("9 - 3 = 6").Equations[0].Canonical);
    }
}
