using Reasoner.Training.Batching;

namespace Reasoner.Tests.Training;

public class BatchingTests
{
    [Fact]
    public void CollatePadsOnTheRightAndMasksPromptAndPadding()
    {
        using var batch = TokenBatch.Collate(TinyTraining.Sequences, padId: 0);
        Assert.Equal([2L, 8L], batch.InputIds.shape);
        Assert.Equal([11L, 12, 13, 14, 15, 0, 0, 0], batch.InputIds[1].data<long>().ToArray());
        Assert.Equal([true, true, true, true, true, false, false, false], batch.AttentionMask[1].data<bool>().ToArray());
        Assert.Equal([0f, 0, 0, 1, 1, 1, 1, 1], batch.LossMask[0].data<float>().ToArray());
        Assert.Equal([0f, 0, 1, 1, 1, 0, 0, 0], batch.LossMask[1].data<float>().ToArray());
        Assert.Equal(13, batch.RealTokens);
        Assert.Equal(8, batch.TargetTokens);
    }

    [Fact]
    public void SequenceNeedsAPromptTokenAndATarget()
    {
        Assert.Throws<ArgumentException>(() => new TrainingSequence([1, 2, 3], promptLength: 0));
        Assert.Throws<ArgumentException>(() => new TrainingSequence([1, 2, 3], promptLength: 3));
    }

    [Fact]
    public void BucketsHoldSimilarLengthsAndAreDeterministic()
    {
        var lengths = new Random(3);
        var stream = Enumerable.Range(0, 64).Select(_ => new TrainingSequence(new int[lengths.Next(2, 100)], 1)).ToArray();
        var first = LengthBuckets.Batch(stream, batchSize: 8, windowBatches: 8, new Random(5)).ToArray();
        var again = LengthBuckets.Batch(stream, batchSize: 8, windowBatches: 8, new Random(5)).ToArray();

        Assert.Equal(8, first.Length);
        Assert.Equal(stream.OrderBy(s => s.Length).Select(s => s.Length), first.SelectMany(b => b).Select(s => s.Length).Order());
        Assert.Equal(first.Select(b => b.Select(s => s.Length).ToArray()), again.Select(b => b.Select(s => s.Length).ToArray()));
        // Sorted within the window: each batch's lengths span one eighth of the window, not the whole range.
        foreach (var b in first) Assert.True(b.Max(s => s.Length) - b.Min(s => s.Length) < 40);
        Assert.NotEqual(first.Select(b => b[0].Length), first.Select(b => b[0].Length).Order()); // batch order shuffled
    }
}
