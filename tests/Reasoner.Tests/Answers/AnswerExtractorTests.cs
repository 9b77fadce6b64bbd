using Reasoner.Core.Answers;
using Reasoner.Core.Problems;

namespace Reasoner.Tests.Answers;

public class AnswerExtractorTests
{
    [Theory]
    [InlineData(@"So the answer is $\frac{1}{2}$.", @"\frac{1}{2}")]
    [InlineData(@"Thus $x = \boxed{\frac{\sqrt{3}}{2}}$.", @"\frac{\sqrt{3}}{2}")]
    [InlineData(@"First \boxed{1}; on reflection the result is \boxed{2}.", "2")]
    [InlineData(@"The polar coordinates are $\boxed{\left( 3, \frac{\pi}{2} \right)}.$", @"\left( 3, \frac{\pi}{2} \right)")]
    [InlineData(@"\boxed{\frac{a}{\{b\}}}", @"\frac{a}{\{b\}}")]
    [InlineData(@"Hence \fbox{42}.", "42")]
    [InlineData(@"so $\boxed 5$", "5")]
    [InlineData("The answer is 4.5.", "4.5")]
    [InlineData("The answer is 3. Wait, that is wrong. The answer is 7.", "7")]
    [InlineData("Some working.\n#### 12", "12")]
    [InlineData("Answer: $x^2+1$", "x^2+1")]
    [InlineData("The answer is:\n\n$$\\frac{3}{4}$$", @"\frac{3}{4}")]
    [InlineData("The answer is x = 3. Let me double-check this.", "x = 3")]
    [InlineData(@"$17^{-1} \equiv \boxed{44} \pmod{83}$. We may check our answer: $17 \cdot 44 = 748$.", "44")]
    [InlineData(@"The answer is \boxed{3}. Let me start again: \boxed{\frac{1", "3")]
    [InlineData(@"\boxed{\{1,2\}}", @"\{1,2\}")]
    [InlineData(@"\boxed{\boxed{9}}", "9")]
    public void ExtractsMath(string text, string expected) =>
        Assert.Equal(expected, AnswerExtractor.Extract(text, AnswerKind.Math));

    [Theory]
    [InlineData("She makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18", "18")]
    [InlineData("#### 1,000", "1000")]
    [InlineData("The answer is $18.", "18")]
    [InlineData("The answer is 18 dollars.", "18")]
    [InlineData("The answer is -5.", "-5")]
    [InlineData("So the total is 3 + 4 = 7", "7")]
    [InlineData("Janet sells 16-3-4=9 eggs", "9")]
    [InlineData("The answer is 3/4.", "3/4")]
    [InlineData("The answer is 25%.", "25%")]
    [InlineData(@"\boxed{\$1,\!000}", "1000")]
    [InlineData(@"\boxed{\frac{3}{4}}", "3/4")]
    [InlineData("I got 12 and later 15. The answer is 12.", "12")]
    [InlineData("The answer is 1,234,567.", "1234567")]
    [InlineData("The temperature falls to -7 degrees.", "-7")]
    [InlineData("It costs $2.50 per pound, so $12.75 in total.", "12.75")]
    [InlineData(@"**Final Answer:** \boxed{720}", "720")]
    [InlineData("Answer: 0.5 liters", "0.5")]
    public void ExtractsNumber(string text, string expected) =>
        Assert.Equal(expected, AnswerExtractor.Extract(text, AnswerKind.Number));

    [Theory]
    [InlineData("The answer is (C).", "C")]
    [InlineData("so the answer is c", "C")]
    [InlineData("Answer: B", "B")]
    [InlineData("**Answer:** (A) Paris", "A")]
    [InlineData("The correct answer is B because it conducts heat.", "B")]
    [InlineData("Between (A) and (D), I pick (D)", "D")]
    [InlineData(@"\boxed{E}", "E")]
    [InlineData(@"\boxed{\text{(b)}}", "B")]
    [InlineData("C", "C")]
    [InlineData("C.", "C")]
    [InlineData("(b)", "B")]
    [InlineData("The answer is 3.", "C")]
    [InlineData("The answer is (a).", "A")]
    [InlineData("C: a farm", "C")]
    [InlineData("B) the ocean", "B")]
    public void ExtractsChoice(string text, string expected) =>
        Assert.Equal(expected, AnswerExtractor.Extract(text, AnswerKind.Choice));

    [Theory]
    [InlineData("Yes.", "yes")]
    [InlineData("No.", "no")]
    [InlineData("Penguins are birds. So the answer is yes.", "yes")]
    [InlineData("The answer is: **No**", "no")]
    [InlineData(@"\boxed{\text{Yes}}", "yes")]
    [InlineData("No, because salmon live in water.", "no")]
    [InlineData("Let me think.\nPenguins cannot fly.\nNo", "no")]
    [InlineData("The answer is true.", "yes")]
    [InlineData("Yes, at first sight. But the answer is no.", "no")]
    public void ExtractsYesNo(string text, string expected) =>
        Assert.Equal(expected, AnswerExtractor.Extract(text, AnswerKind.YesNo));

    [Theory]
    [InlineData("", AnswerKind.Math)]
    [InlineData("   ", AnswerKind.Number)]
    [InlineData("There is no boxed answer here.", AnswerKind.Math)]
    [InlineData(@"\boxed{", AnswerKind.Math)]
    [InlineData("No numbers at all.", AnswerKind.Number)]
    [InlineData("The answer is a bird.", AnswerKind.Choice)]
    [InlineData("I am not sure about this one.", AnswerKind.YesNo)]
    [InlineData("The answer is maybe.", AnswerKind.YesNo)]
    public void ReturnsNullWhenThereIsNoAnswer(string text, AnswerKind kind) =>
        Assert.Null(AnswerExtractor.Extract(text, kind));

    [Theory]
    [InlineData("So she has 3 + 7 = 10 marbles.", AnswerKind.Number, null, "10")]
    [InlineData("The answer is 10.", AnswerKind.Number, "10", "10")]
    [InlineData("#### 1,000", AnswerKind.Number, "1000", "1000")]
    [InlineData("So $x = \\boxed{\\frac{1}{2}}$.", AnswerKind.Math, "\\frac{1}{2}", "\\frac{1}{2}")]
    [InlineData("Fish live in water (B).", AnswerKind.Choice, null, "B")]
    [InlineData("The answer is (B).", AnswerKind.Choice, "B", "B")]
    [InlineData("No, Alex is not cold.", AnswerKind.YesNo, null, "no")]
    [InlineData("The answer is no.", AnswerKind.YesNo, "no", "no")]
    public void ExtractMarkedTakesOnlyExplicitlyMarkedAnswers(string text, AnswerKind kind, string? marked, string extracted)
    {
        Assert.Equal(marked, AnswerExtractor.ExtractMarked(text, kind));
        Assert.Equal(extracted, AnswerExtractor.Extract(text, kind));
    }
}
