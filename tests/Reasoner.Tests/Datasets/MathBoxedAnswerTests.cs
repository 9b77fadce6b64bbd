using Reasoner.Core.Answers;
using Reasoner.Core.Problems;

namespace Reasoner.Tests.Datasets;

/// <summary>The MATH loader takes a record's answer from its solution's last box when the record has no 'answer'.</summary>
public class MathBoxedAnswerTests
{
    [Theory]
    [InlineData(@"so $\boxed{5}$.", "5")]
    [InlineData(@"first $\boxed{1}$ then $\boxed{\frac{1}{2}}$", @"\frac{1}{2}")]
    [InlineData(@"$\boxed{\{1, 2\}}$", @"\{1, 2\}")]
    [InlineData(@"$\boxed{\left\{ x \right.}$", @"\left\{ x \right.")]
    [InlineData(@"$\boxed{a \\{b}}$", @"a \\{b}")]
    [InlineData(@"\fbox{7}", "7")]
    [InlineData(@"$\boxed{2}$ and \fbox{3}", "3")]
    public void FindsTheLastBoxedContent(string latex, string expected) => Assert.Equal(expected, AnswerExtractor.Extract(latex, AnswerKind.Math));

    [Theory]
    [InlineData("no box here")]
    [InlineData(@"$\boxed{\frac{1}{2}$")]
    public void ReturnsNullWithoutAClosedBox(string latex) => Assert.Null(AnswerExtractor.Extract(latex, AnswerKind.Math));
}
