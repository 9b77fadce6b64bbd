namespace Reasoner.Core.Storage;

/// <summary>
/// When a writer pushes buffered records out of the process: after <see cref="EveryRecords"/> records,
/// or once <see cref="Interval"/> has passed since the last flush, whichever comes first. Both rules are
/// checked after each append (a group of trees appended together is checked once, after its last record, so the
/// group shares one flush), so a writer that goes idle holds its buffer until the next append,
/// an explicit <see cref="TreeStoreWriter.Flush"/>, or <see cref="TreeStoreWriter.Dispose"/>.
/// </summary>
public sealed record FlushPolicy
{
    /// <summary>Flush after every record: a crash of the process loses nothing already appended.</summary>
    public static FlushPolicy EveryRecord { get; } = new() { EveryRecords = 1 };

    /// <summary>0 turns the count rule off.</summary>
    public int EveryRecords { get; init; }

    /// <summary>Null turns the time rule off.</summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>Also fsync on each policy flush, so records survive a power loss, not just a process crash.</summary>
    public bool ToDisk { get; init; }

    internal bool IsDue(int unflushedRecords, TimeSpan sinceLastFlush) =>
        unflushedRecords > 0 && ((EveryRecords > 0 && unflushedRecords >= EveryRecords) || sinceLastFlush >= Interval);
}
