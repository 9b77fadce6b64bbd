using Reasoner.Core.Storage;

namespace Reasoner.Generation;

/// <summary>The "Store" settings section: how the run folder's store writer flushes and splits segments.</summary>
public sealed class StoreSettings
{
    /// <summary>Flush the segment after this many records (1 = every record).</summary>
    public int FlushEveryRecords { get; set; } = 1;

    /// <summary>Also flush when this many seconds passed since the last flush (0 = off).</summary>
    public double FlushIntervalSeconds { get; set; } = 5;

    /// <summary>fsync on flush, so a power loss keeps what was flushed.</summary>
    public bool Fsync { get; set; } = true;

    /// <summary>Start a new segment past this size.</summary>
    public int SegmentMaxMegabytes { get; set; } = 64;

    /// <summary>The store writer's options for these settings; every writer of a run gets its own segment.</summary>
    public TreeStoreWriterOptions ToWriterOptions(string? writerId = null)
    {
        if (FlushEveryRecords < 1) throw new ArgumentException($"Store:FlushEveryRecords must be at least 1, not {FlushEveryRecords}");
        if (SegmentMaxMegabytes < 1) throw new ArgumentException($"Store:SegmentMaxMegabytes must be at least 1, not {SegmentMaxMegabytes}");
        return new TreeStoreWriterOptions
        {
            WriterId = writerId,
            SegmentSizeLimit = (long)SegmentMaxMegabytes << 20,
            Flush = new FlushPolicy
            {
                EveryRecords = FlushEveryRecords,
                Interval = FlushIntervalSeconds > 0 ? TimeSpan.FromSeconds(FlushIntervalSeconds) : null,
                ToDisk = Fsync,
            },
        };
    }
}
