using Reasoner.Core.Answers;
using Reasoner.Core.Problems;

namespace Reasoner.Tests.Answers;

/// <summary>Malformed input must never throw; it is simply not an answer, or not equivalent.</summary>
public class RobustnessTests
{
    public static TheoryData<string> WeirdInputs() => new()
    {
        @"\", @"\\", "{{{{", "}}}}", @"\frac", @"\frac{", @"\frac{1}{", @"\sqrt[", "((((((((((", "))))", @"\boxed{\boxed{",
        "1/0", "0^0", @"\left(", "$$", "^^^", "___", @"\begin{pmatrix}", @"\begin{pmatrix}1&2\\3\end{pmatrix}",
        @"\{\}", "(,)", "[,]", ",,,", @"\pm", @"\pm\pm\pm\pm", "x=", "=", "==", @"\infty-\infty", "10^{10^{10}}",
        "99999999999999999999999999999999!", "|||", @"\text{", @"\cup\cup", "1e999", "-", ".", "..", "(]",
        "\u0000\u0001", "\U0001F600", @"\unknowncommand{3}", @"a_", @"x^", @"\log_", @"\sin^", @"2\frac{1}",
        new string('(', 5000), string.Concat(Enumerable.Repeat(@"\frac{", 300)) + "1" + new string('}', 600),
        string.Concat(Enumerable.Repeat("-", 3000)) + "1", string.Concat(Enumerable.Repeat("x+", 400)) + "1",
        string.Concat(Enumerable.Repeat(@"\sqrt{", 150)) + "2" + new string('}', 150),
    };

    [Theory]
    [MemberData(nameof(WeirdInputs))]
    public void NeverThrowsAndNeverMatchesANormalAnswer(string weird)
    {
        foreach (var kind in Enum.GetValues<AnswerKind>())
        {
            AnswerExtractor.Extract(weird, kind);
            AnswerChecker.Check(weird, new Problem("p", "test", "q", "1", kind));
            Assert.False(AnswerChecker.IsEquivalent(weird, "12", kind), $"{kind}: {weird}");
            Assert.False(AnswerChecker.IsEquivalent("12", weird, kind), $"{kind}: {weird}");
        }
    }
}
