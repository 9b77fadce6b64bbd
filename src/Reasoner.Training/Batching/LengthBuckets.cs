namespace Reasoner.Training.Batching;

/// <summary>
/// Groups a stream of sequences into batches of similar length, so little of each batch is padding:
/// read a window of several batches' worth, sort it by length, cut it into batches, and shuffle the
/// batches (seeded) so the model does not see lengths in order.
/// </summary>
public static class LengthBuckets
{
    public static IEnumerable<IReadOnlyList<TrainingSequence>> Batch(IEnumerable<TrainingSequence> stream, int batchSize, int windowBatches, Random random)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        if (windowBatches < 1) throw new ArgumentOutOfRangeException(nameof(windowBatches), "the window must hold at least one batch");
        foreach (var window in stream.Chunk(batchSize * windowBatches))
        {
            // A stable sort keeps the order deterministic for equal lengths.
            var batches = window.OrderBy(s => s.Length).Chunk(batchSize).ToArray();
            random.Shuffle(batches);
            foreach (var batch in batches) yield return batch;
        }
    }
}
