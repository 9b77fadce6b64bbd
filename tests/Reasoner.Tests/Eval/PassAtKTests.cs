using Reasoner.Core.Problems;
using Reasoner.Training.Evaluation;

namespace Reasoner.Tests.Eval;

public class PassAtKTests
{
    [Theory]
    [InlineData(16, 0, 16, 0.0)]
    [InlineData(16, 1, 16, 1.0)]   // n == k: plain "any correct"
    [InlineData(16, 16, 16, 1.0)]
    [InlineData(10, 3, 1, 0.3)]    // pass@1 is the fraction correct
    [InlineData(4, 2, 2, 5.0 / 6)] // 1 - C(2,2)/C(4,2) = 1 - 1/6
    [InlineData(20, 2, 16, 1 - 3.0 / 95)] // 1 - C(18,16)/C(20,16) = 1 - 153/4845
    public void MatchesTheCombinatorialFormula(int n, int c, int k, double expected) =>
        Assert.Equal(expected, PassAtK.Estimate(n, c, k), 10);

    [Fact]
    public void EqualsTheBruteForceAverageOverSubsets()
    {
        // Every k-subset of 6 samples with 2 correct: the share of subsets holding a correct one.
        int n = 6, c = 2, k = 3;
        var subsets = Enumerable.Range(0, 1 << n).Where(m => System.Numerics.BitOperations.PopCount((uint)m) == k).ToArray();
        double share = subsets.Count(m => (m & 0b11) != 0) / (double)subsets.Length;
        Assert.Equal(share, PassAtK.Estimate(n, c, k), 12);
    }

    [Fact]
    public void RejectsKAboveN() => Assert.Throws<ArgumentException>(() => PassAtK.Estimate(4, 1, 5));

    [Fact]
    public void MajorityVoteGroupsEquivalentAnswersAndSkipsMissingOnes()
    {
        Assert.Equal("12", MajorityVote.Winner(["12", "7", "12.0", null, null, null, "7", "12"], AnswerKind.Number));
        Assert.Equal("7", MajorityVote.Winner(["7", "12", "12.0", "7", "$7"], AnswerKind.Number));
        Assert.Equal("5", MajorityVote.Winner(["5", "6"], AnswerKind.Number)); // tie: first seen
        Assert.Null(MajorityVote.Winner([null, null], AnswerKind.Number));
        Assert.Equal("no", MajorityVote.Winner(["yes", "no", "No", "false"], AnswerKind.YesNo));
    }
}
