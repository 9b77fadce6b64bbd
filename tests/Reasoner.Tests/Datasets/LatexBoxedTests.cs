using Reasoner.Core.Datasets;

namespace Reasoner.Tests.Datasets;

public class LatexBoxedTests
{
    [Theory]
    [InlineData(@"so $\boxed{5}$.", "5")]
    [InlineData(@"first $\boxed{1}$ then $\boxed{\frac{1}{2}}$", @"\frac{1}{2}")]
    [InlineData(@"$\boxed{\{1, 2\}}$", @"\{1, 2\}")]
    [InlineData(@"$\boxed{\left\{ x \right.}$", @"\left\{ x \right.")]
    [InlineData(@"$\boxed{a \\{b}}$", @"a \\{b}")]
    [InlineData(@"\fbox{7}", "7")]
    [InlineData(@"$\boxed{2}$ and \fbox{3}", "3")]
    public void FindsTheLastBoxedContent(string latex, string expected) => Assert.Equal(expected, LatexBoxed.Last(latex));

    [Theory]
    [InlineData("no box here")]
    [InlineData(@"$\boxed{\frac{1}{2}$")]
    public void ReturnsNullWithoutAClosedBox(string latex) => Assert.Null(LatexBoxed.Last(latex));
}
