using Reasoner.Models.Backends;

namespace Reasoner.Tests.Generation;

/// <summary>Two sets of completions are the same: tokens, text and finish exactly, log-probabilities to fp32 rounding.</summary>
static class CompletionAssert
{
    public static void Same(IReadOnlyList<Completion> expected, IReadOnlyList<Completion> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].TokenIds, actual[i].TokenIds);
            Assert.Equal(expected[i].Text, actual[i].Text);
            Assert.Equal(expected[i].Finish, actual[i].Finish);
            for (int j = 0; j < expected[i].TokenCount; j++)
                Assert.True(Math.Abs(expected[i].TokenLogProbs[j] - actual[i].TokenLogProbs[j]) < 1e-4,
                    $"row {i} token {j}: {expected[i].TokenLogProbs[j]} expected, {actual[i].TokenLogProbs[j]} actual");
        }
    }
}
